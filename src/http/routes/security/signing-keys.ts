import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { bodyFields, stringField } from './common.js';

/** Keys are a few KiB; a body above this is refused before it is read in full. */
export const KEY_BODY_LIMIT = 64 * 1024;
const GPG = '/artifactory/api/gpg/key';
const KEYPAIR = '/artifactory/api/security/keypair';
const ADMIN = { config: { access: 'admin' as const }, bodyLimit: KEY_BODY_LIMIT };

function armoredBody(body: unknown, what: string): string {
  const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : undefined;
  if (text === undefined || text.trim() === '') throw new ArcaError('BAD_REQUEST', `The body must be the ASCII-armored ${what} (text/plain)`);
  return text;
}

/**
 * Signing keys (docs/signing.md): the default key as the seed's `/api/gpg/key/{public,private,
 * passphrase}` sets it, and named key pairs (`/api/security/keypair`) that repositories name in
 * `primaryKeyPairRef`. Private keys and passphrases go in and never come out.
 */
export async function signingKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const keys = ctx.signingKeys;
  // An armored key arrives as text/plain, or with whatever type `curl -T` or `--data-binary` gives it.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: KEY_BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: KEY_BODY_LIMIT }, (_req, body, done) => done(null, body));

  // The default public key, for apt's signed-by= and dnf's gpgkey=: public even with anonymous access off.
  app.get(`${GPG}/public`, { config: { public: true } }, async (_request, reply) => {
    const signer = await keys.defaultKey();
    return reply.type('text/plain; charset=utf-8').send(signer.publicKeyArmored);
  });

  app.put(`${GPG}/public`, ADMIN, async (request, reply) => {
    const message = await keys.uploadPublic(armoredBody(request.body, 'public key'));
    return reply.type('text/plain; charset=utf-8').send(message);
  });

  app.put(`${GPG}/private`, ADMIN, async (request, reply) => {
    const message = await keys.uploadPrivate(armoredBody(request.body, 'private key'));
    return reply.type('text/plain; charset=utf-8').send(message);
  });

  app.put(`${GPG}/passphrase`, ADMIN, async (request, reply) => {
    const passphrase = request.headers['x-gpg-passphrase'];
    if (typeof passphrase !== 'string' || passphrase === '') throw new ArcaError('BAD_REQUEST', 'The passphrase goes in the X-GPG-PASSPHRASE header');
    const message = await keys.uploadPassphrase(passphrase);
    return reply.type('text/plain; charset=utf-8').send(message);
  });

  app.post(KEYPAIR, ADMIN, async (request, reply) => {
    const body = typeof request.body === 'string' ? parseJson(request.body) : request.body;
    const b = bodyFields(body);
    const pairName = stringField(b, 'pairName');
    if (!pairName) throw new ArcaError('BAD_REQUEST', "'pairName' is required", { field: 'pairName' });
    const info = await keys.create({
      pairName,
      pairType: stringField(b, 'pairType'),
      alias: stringField(b, 'alias'),
      privateKey: stringField(b, 'privateKey'),
      publicKey: stringField(b, 'publicKey'),
      passphrase: stringField(b, 'passphrase'),
    });
    return reply.code(201).send(info);
  });

  app.get(KEYPAIR, async (request) => {
    if (!request.principal.admin) await request.access.refuse('list key pairs');
    return keys.list();
  });

  app.get<{ Params: { pairName: string } }>(`${KEYPAIR}/:pairName`, async (request) => {
    if (!request.principal.admin) await request.access.refuse('read key pairs');
    return keys.get(request.params.pairName);
  });

  app.delete<{ Params: { pairName: string } }>(`${KEYPAIR}/:pairName`, { config: { access: 'admin' as const } }, async (request, reply) => {
    await keys.delete(request.params.pairName, await ctx.repos.list());
    return reply.code(204).send();
  });

  // The key that signs a repository: anyone who may read the repository may fetch it.
  app.get<{ Params: { repoKey: string } }>(`${KEYPAIR}/public/repositories/:repoKey`, async (request, reply) => {
    const repo = await ctx.serve.visibility.requireVisible(request.access, request.params.repoKey);
    const signer = await keys.forRepository(repo.key);
    return reply.type('text/plain; charset=utf-8').send(signer.publicKeyArmored);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ArcaError('BAD_REQUEST', `Invalid JSON body: ${(err as Error).message}`);
  }
}
