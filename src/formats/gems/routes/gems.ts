import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf, requireAuthenticated } from '../../../http/auth.js';
import { parseRange } from '../../../http/ranges.js';
import { header, serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { MAX_GEM_BYTES } from '../gems-handler.js';
import { gemPath, NAMES_PATH, QUICK_FOLDER, SPECS_FILES } from '../gem-layout.js';
import type { GemsService, IndexFile } from '../service/gems-service.js';

/**
 * The RubyGems API of every gem repository (local, remote, virtual), under
 * `/artifactory/api/gems/{repoKey}`, as rubygems.org and the seed product lay it out:
 * - the compact index (`versions`, `info/{name}`, `names`) with the ETag (quoted MD5),
 *   `Repr-Digest` and byte ranges bundler's incremental updates rely on;
 * - the legacy index (`specs.4.8.gz`, `latest_specs.4.8.gz`, `prerelease_specs.4.8.gz`,
 *   `quick/Marshal.4.8/{full}.gemspec.rz`) and the gems (`gems/{full}.gem`);
 * - `POST api/v1/gems` (gem push), `DELETE api/v1/gems/yank` (gem yank) and
 *   `GET api/v1/api_key[.json|.yaml]` (the caller's API key, which `gem` then sends as the
 *   whole `Authorization` header).
 * Errors are plain text, as rubygems.org answers them.
 */

export const GEMS_PREFIX = '/artifactory/api/gems/';
const PREFIX = `${GEMS_PREFIX}:repoKey`;
const FORM_LIMIT = 64 * 1024;

interface RepoParams {
  repoKey: string;
}

function gemsRepo(ctx: AppContext, request: FastifyRequest, key: string): Promise<{ repo: RepoConfig; cacheOnly: boolean }> {
  return ctx.serve.addressFormat(request.access, key, intentOf(request.method), 'gems', 'a RubyGems');
}

/** True when `If-None-Match` lists `etag` (or `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}

/** An index file with the validators bundler checks: ETag = quoted MD5, Repr-Digest, ranges. */
function sendIndex(request: FastifyRequest, reply: FastifyReply, file: IndexFile, type: string, head: boolean) {
  const { data } = file;
  const etag = `"${createHash('md5').update(data).digest('hex')}"`;
  const sha256 = createHash('sha256').update(data).digest('base64');
  reply
    .header('ETag', etag)
    .header('Repr-Digest', `sha-256=:${sha256}:`)
    .header('Digest', `sha-256=${sha256}`)
    .header('X-Checksum-Sha1', createHash('sha1').update(data).digest('hex'))
    .header('Accept-Ranges', 'bytes')
    .header('Last-Modified', new Date(file.modified).toUTCString())
    .type(type);
  if (matches(header(request, 'if-none-match'), etag)) return reply.code(304).send();
  if (head) return reply.code(200).header('Content-Length', String(data.length)).send();
  const range = parseRange(header(request, 'range'), data.length);
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${data.length}`);
    throw new ArcaError('RANGE_NOT_SATISFIABLE', `Requested range not satisfiable for a ${data.length}-byte file`);
  }
  if (range.kind === 'ranges' && range.ranges.length === 1) {
    const r = range.ranges[0];
    return reply.code(206).header('Content-Range', `bytes ${r.start}-${r.end}/${data.length}`).send(data.subarray(r.start, r.end + 1));
  }
  return reply.code(200).send(data);
}

const TEXT = 'text/plain; charset=utf-8';
const BINARY = 'application/octet-stream';

/** The fields of a yank: the form body `gem` sends with DELETE, or the query. */
async function yankFields(request: FastifyRequest): Promise<URLSearchParams> {
  const body = await readBounded(request.raw, FORM_LIMIT, () => new ArcaError('PAYLOAD_TOO_LARGE', 'The yank request is too large'));
  const fields = new URLSearchParams(body.toString('utf8'));
  for (const [k, v] of Object.entries(request.query as Record<string, unknown>)) if (typeof v === 'string' && !fields.has(k)) fields.set(k, v);
  return fields;
}

export async function gemsRoutes(app: FastifyInstance, ctx: AppContext, gems: GemsService): Promise<void> {
  // Push and yank bodies are read by their handlers, whatever their type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  // The gem's path is in the body: before it is read, the caller must be able to write (or delete) somewhere in the target.
  const needs = (action: 'write' | 'delete') => ({
    access: async (request: FastifyRequest) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, (request.params as RepoParams).repoKey);
      return { repo: await gems.writeTarget(repo, cacheOnly), action };
    },
  });

  app.post<{ Params: RepoParams }>(`${PREFIX}/api/v1/gems`, { config: needs('write') }, async (request, reply) => {
    const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
    const body = await readBounded(request.raw, MAX_GEM_BYTES, () => new ArcaError('PAYLOAD_TOO_LARGE', `A gem may not be larger than ${MAX_GEM_BYTES} bytes`));
    const spec = await gems.push(request.access, repo, cacheOnly, body);
    const shown = spec.platform === 'ruby' ? spec.version : `${spec.version}-${spec.platform}`;
    return reply.code(200).type(TEXT).send(`Successfully registered gem: ${spec.name} (${shown})`);
  });

  app.delete<{ Params: RepoParams }>(`${PREFIX}/api/v1/gems/yank`, { config: needs('delete') }, async (request, reply) => {
    const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
    const fields = await yankFields(request);
    const name = fields.get('gem_name') ?? '';
    const version = fields.get('version') ?? '';
    const platform = fields.get('platform') || 'ruby';
    await gems.yank(request.access, repo, cacheOnly, name, version, platform);
    return reply.code(200).type(TEXT).send(`Successfully deleted gem: ${name} (${version}${platform === 'ruby' ? '' : `-${platform}`})`);
  });

  // The caller's API key (made on first use), for `gem signin` and the credentials file.
  const apiKeyOf = async (request: FastifyRequest<{ Params: RepoParams }>) => {
    await gemsRepo(ctx, request, request.params.repoKey);
    requireAuthenticated(request);
    const user = request.principal.name;
    const existing = await ctx.security.apiKeys.get(user);
    if (existing) return existing;
    try {
      return await ctx.security.apiKeys.create(user, 'create');
    } catch (err) {
      // Two first calls at once: the other one made the key.
      const made = isArcaError(err, 'ALREADY_EXISTS') ? await ctx.security.apiKeys.get(user) : undefined;
      if (made) return made;
      throw err;
    }
  };
  // `gem signin` (RubyGems 3.3) POSTs its key name and scopes with basic credentials; the key is the body of the answer.
  app.post<{ Params: RepoParams }>(`${PREFIX}/api/v1/api_key`, { config: { access: 'authenticated' } }, async (request, reply) => {
    await readBounded(request.raw, FORM_LIMIT, () => new ArcaError('PAYLOAD_TOO_LARGE', 'The request is too large'));
    return reply.code(200).type(TEXT).send(await apiKeyOf(request));
  });
  for (const [suffix, render] of [
    ['', (key: string) => key],
    ['.json', (key: string) => JSON.stringify({ rubygems_api_key: key })],
    ['.yaml', (key: string) => `---\n:rubygems_api_key: ${key}\n`],
  ] as const) {
    app.get<{ Params: RepoParams }>(`${PREFIX}/api/v1/api_key${suffix}`, async (request, reply) => {
      const key = await apiKeyOf(request);
      const type = suffix === '.json' ? 'application/json' : suffix === '.yaml' ? 'application/x-yaml' : TEXT;
      return reply.code(200).type(type).send(render(key));
    });
  }

  for (const head of [true, false]) {
    // HEAD first, so Fastify does not derive HEAD routes from the GET handlers.
    const method = head ? app.head.bind(app) : app.get.bind(app);
    // `gem` probes the source's root before it uses the compact index.
    const root = async (request: FastifyRequest<{ Params: RepoParams }>, reply: FastifyReply) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
      await gems.versions(request.access, repo, cacheOnly);
      return reply.code(200).type(TEXT).send(head ? undefined : '');
    };
    method<{ Params: RepoParams }>(PREFIX, root);
    method<{ Params: RepoParams }>(`${PREFIX}/`, root);
    method<{ Params: RepoParams }>(`${PREFIX}/versions`, async (request, reply) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
      return sendIndex(request, reply, await gems.versions(request.access, repo, cacheOnly), TEXT, head);
    });
    method<{ Params: RepoParams & { name: string } }>(`${PREFIX}/info/:name`, async (request, reply) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
      return sendIndex(request, reply, await gems.info(request.access, repo, cacheOnly, request.params.name), TEXT, head);
    });
    method<{ Params: RepoParams }>(`${PREFIX}/${NAMES_PATH}`, async (request, reply) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
      return sendIndex(request, reply, await gems.derivedFile(request.access, repo, cacheOnly, NAMES_PATH), TEXT, head);
    });
    for (const file of Object.keys(SPECS_FILES) as (keyof typeof SPECS_FILES)[]) {
      method<{ Params: RepoParams }>(`${PREFIX}/${file}`, async (request, reply) => {
        const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
        return sendIndex(request, reply, await gems.derivedFile(request.access, repo, cacheOnly, file), BINARY, head);
      });
    }
    method<{ Params: RepoParams & { file: string } }>(`${PREFIX}/gems/:file`, async (request, reply) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
      const file = request.params.file;
      if (!file.endsWith('.gem') || file.includes('/') || file.startsWith('.')) throw new ArcaError('NOT_FOUND', 'This gem could not be found');
      const item = await gems.file(request.access, repo, cacheOnly, gemPath(file.slice(0, -4)));
      return serveFile(ctx, request, reply, item, head);
    });
    method<{ Params: RepoParams & { file: string } }>(`${PREFIX}/${QUICK_FOLDER}/:file`, async (request, reply) => {
      const { repo, cacheOnly } = await gemsRepo(ctx, request, request.params.repoKey);
      const file = request.params.file;
      if (!file.endsWith('.gemspec.rz') || file.includes('/') || file.startsWith('.')) throw new ArcaError('NOT_FOUND', 'This gem could not be found');
      const item = await gems.file(request.access, repo, cacheOnly, `${QUICK_FOLDER}/${file}`);
      return serveFile(ctx, request, reply, item, head);
    });
  }
}
