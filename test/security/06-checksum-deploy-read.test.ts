/**
 * Issue 12, item 6: a deploy by checksum (`X-Checksum-Deploy: true`) needs read access to an
 * existing item holding that checksum; otherwise the answer is the 404 of an unknown checksum.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, basic } from '../helpers/credentials.js';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const WRITER = basic('writer', 'Writer-Passw0rd!');
const V2 = '/artifactory/api/v2/security/permissions';
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function section(repositories: string[], users: Record<string, string[]>, include = ['**']) {
  return { 'include-patterns': include, 'exclude-patterns': [], repositories, actions: { users, groups: {} } };
}

describe('item 6: deploy by checksum over HTTP (real process)', () => {
  let node: NodeProcess;
  const secret = randomBytes(4096);
  const shared = randomBytes(4096);

  const call = (method: string, path: string, authorization: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${node.base}${path}`, { method, headers: { authorization, ...headers }, body });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, ADMIN_AUTH, typeof body === 'string' || Buffer.isBuffer(body) || body === undefined ? body : JSON.stringify(body), {
      'content-type': typeof body === 'object' && !Buffer.isBuffer(body) ? 'application/json' : 'application/octet-stream',
    });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
  };
  const byChecksum = (path: string, sums: Record<string, string>) =>
    call('PUT', `/${path}`, WRITER, undefined, { 'X-Checksum-Deploy': 'true', ...Object.fromEntries(Object.entries(sums).map(([k, v]) => [`X-Checksum-${k}`, v])) });

  beforeAll(async () => {
    node = await startNodeProcess();
    for (const key of ['secret-local', 'shared-local', 'team-local']) await admin('PUT', `/api/repositories/${key}`, { rclass: 'local', packageType: 'generic' });
    await admin('PUT', '/api/security/users/writer', { email: 'writer@example.com', password: 'Writer-Passw0rd!' });
    await admin('PUT', `${V2.replace('/artifactory', '')}/team`, { name: 'team', repo: section(['team-local'], { writer: ['read', 'write'] }) });
    // The writer may read only docs/** of shared-local, and nothing of secret-local.
    await admin('PUT', `${V2.replace('/artifactory', '')}/shared-docs`, { name: 'shared-docs', repo: section(['shared-local'], { writer: ['read'] }, ['docs/**']) });
    await admin('PUT', '/secret-local/keys/secret.bin', secret);
    await admin('PUT', '/shared-local/hidden/shared.bin', shared);
  }, 120_000);
  afterAll(async () => {
    await node?.cleanup();
  });

  it('cannot copy a binary the writer cannot read, nor tell that it exists', async () => {
    const unknown = randomBytes(64);
    for (const [alg, of] of [
      ['Sha1', sha1],
      ['Sha256', sha256],
    ] as const) {
      const refused = await byChecksum('team-local/copied.bin', { [alg]: of(secret) });
      const absent = await byChecksum('team-local/copied.bin', { [alg]: of(unknown) });
      expect(refused.status).toBe(404);
      expect(absent.status).toBe(404);
      // The same answer as for a checksum nothing has, but for the checksum it quotes.
      expect((await refused.text()).replace(of(secret), 'X')).toBe((await absent.text()).replace(of(unknown), 'X'));
      // Readable repository, unreadable path: the same.
      const hidden = await byChecksum('team-local/copied.bin', { [alg]: of(shared) });
      expect(hidden.status).toBe(404);
    }
    expect((await call('GET', '/team-local/copied.bin', WRITER)).status).toBe(404);
  });

  it('can deploy by checksum once the writer can read one copy', async () => {
    await admin('PUT', '/shared-local/docs/shared.bin', shared);
    const res = await byChecksum('team-local/from-docs.bin', { Sha1: sha1(shared) });
    expect(res.status, await res.clone().text()).toBe(201);
    const got = await call('GET', '/team-local/from-docs.bin', WRITER);
    expect(Buffer.from(await got.arrayBuffer()).equals(shared)).toBe(true);
    // An admin reads everything: the secret's checksum works for them.
    const own = await call('PUT', '/team-local/admin-copy.bin', ADMIN_AUTH, undefined, { 'X-Checksum-Deploy': 'true', 'X-Checksum-Sha256': sha256(secret) });
    expect(own.status).toBe(201);
  });
});

describe.each(DIALECTS)('item 6: the readable copy is found by paging through the checksum, on %s', (dialect) => {
  let node: TestNode;
  const data = randomBytes(1024);

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['many-local', 'dest-local']) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    }
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/writer', payload: { email: 'w@example.com', password: 'Writer-Passw0rd!' } })).statusCode).toBe(201);
    const target = { name: 'w', repo: section(['dest-local'], { writer: ['read', 'write'] }) };
    expect((await node.request({ method: 'PUT', url: `${V2}/w`, payload: target })).statusCode).toBe(201);
    const open = { name: 'open', repo: section(['many-local'], { writer: ['read'] }, ['open/**']) };
    expect((await node.request({ method: 'PUT', url: `${V2}/open`, payload: open })).statusCode).toBe(201);
    // More unreadable copies than one page holds, written before the one readable copy.
    for (let i = 0; i < 130; i++) expect((await node.request({ method: 'PUT', url: `/artifactory/many-local/closed/${i}.bin`, payload: data })).statusCode).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await node?.close();
  });

  const deploy = (path: string) =>
    node.request({ method: 'PUT', url: `/artifactory/dest-local/${path}`, headers: { authorization: WRITER, 'x-checksum-deploy': 'true', 'x-checksum-sha1': sha1(data) } });

  it('refuses while every copy is unreadable, and finds the readable one past the first page', async () => {
    expect((await deploy('a.bin')).statusCode).toBe(404);
    expect((await node.request({ method: 'PUT', url: '/artifactory/many-local/open/last.bin', payload: data })).statusCode).toBe(201);
    const res = await deploy('b.bin');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().checksums.sha1).toBe(sha1(data));
  });
});
