import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret, isEncrypted } from '../../src/core/secrets.js';
import { DIALECTS } from '../helpers/databases.js';
import { startCluster, within, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { basic } from '../helpers/node-context.js';

const LOW = basic('replow', 'Repl-Low-Passw0rd!');
const SECRET = 'Target-Secret-Passw0rd-42';
const T1 = 'https://site-b.example.com/artifactory/libs-target';
const T2 = 'https://site-c.example.com/artifactory/libs-target';

/**
 * Replication configuration (issue 16, item 1) on every dialect, on two nodes sharing one
 * database: the seed's JSON shapes and status codes, multi-push, validation naming the field,
 * the password stored encrypted and never answered, administrators only, and a change on one
 * node seen by the other at once (nothing is cached).
 */
describe.each(DIALECTS)('replication configuration on %s', (dialect) => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  const json = (node: ClusterNode, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, authorization?: string) =>
    node.request({ method, url: `/artifactory${url}`, ...(payload === undefined ? {} : { payload: payload as object }), headers: authorization ? { authorization } : {} });
  const rows = (key: string) => a.ctx.database.db.selectFrom('replications').selectAll().where('repo_key', '=', key).orderBy('position').execute();
  const push = (extra: Record<string, unknown> = {}) => ({ url: T1, username: 'deployer', password: SECRET, cronExp: '0 0 12 * * ?', repoKey: 'rp-local', ...extra });
  const expect400 = async (res: { statusCode: number; body: string }, field: string) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.body).toContain(`'${field}'`);
    expect(JSON.parse(res.body).errors[0].status).toBe(400);
  };

  beforeAll(async () => {
    cluster = await startCluster(dialect, 2);
    [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    for (const [key, body] of [
      ['rp-local', { rclass: 'local', packageType: 'generic' }],
      ['rp-multi', { rclass: 'local', packageType: 'maven' }],
      ['rp-remote', { rclass: 'remote', packageType: 'generic', url: 'https://upstream.example.com/files' }],
      ['rp-virtual', { rclass: 'virtual', packageType: 'generic', repositories: ['rp-local'] }],
    ] as const) {
      const res = await json(a, 'PUT', `/api/repositories/${key}`, body);
      expect(res.statusCode, res.body).toBe(200);
    }
    const user = await json(a, 'PUT', '/api/security/users/replow', { email: 'r@example.com', password: 'Repl-Low-Passw0rd!' });
    expect([200, 201]).toContain(user.statusCode);
    // Node b learns of the repositories through the config version poll.
    await within(10_000, async () => (await json(b, 'GET', '/api/repositories/rp-virtual')).statusCode === 200);
  }, 120_000);
  afterAll(async () => cluster?.close());

  it('creates, reads, updates and deletes a push replication in the seed shape', async () => {
    expect((await json(a, 'GET', '/api/replications/rp-local')).statusCode).toBe(404);
    const put = await json(a, 'PUT', '/api/replications/rp-local', push({ socketTimeoutMillis: 100, includePathPrefixPattern: '/include/path' }));
    expect(put.statusCode, put.body).toBe(201);
    const got = await json(a, 'GET', '/api/replications/rp-local');
    expect(got.statusCode, got.body).toBe(200);
    // An array even for one target: the JFrog client unmarshals an array.
    expect(got.json()).toEqual([
      {
        repoKey: 'rp-local', url: T1, username: 'deployer', enabled: true, cronExp: '0 0 12 * * ?', enableEventReplication: false,
        syncDeletes: false, syncProperties: true, syncStatistics: false, pathPrefix: '', includePathPrefixPattern: '/include/path',
        excludePathPrefixPattern: '', socketTimeoutMillis: 100, checkBinaryExistenceInFilestore: false, proxyRef: '',
      },
    ]);
    const post = await json(a, 'POST', '/api/replications/rp-local', { syncDeletes: true, enableEventReplication: true });
    expect(post.statusCode, post.body).toBe(200);
    const after = (await json(a, 'GET', '/api/replications/rp-local')).json()[0];
    expect(after).toMatchObject({ syncDeletes: true, enableEventReplication: true, socketTimeoutMillis: 100, username: 'deployer' });
    // The update kept the stored password.
    const [row] = await rows('rp-local');
    expect(decryptSecret(a.ctx.masterKey, JSON.parse(row!.config).password)).toBe(SECRET);
    const all = (await json(a, 'GET', '/api/replications')).json() as Array<Record<string, unknown>>;
    expect(all.find((r) => r.repoKey === 'rp-local')).toMatchObject({ replicationType: 'PUSH', url: T1 });
    const del = await json(a, 'DELETE', '/api/replications/rp-local');
    expect(del.statusCode, del.body).toBe(200);
    expect((await json(a, 'GET', '/api/replications/rp-local')).statusCode).toBe(404);
    expect(await rows('rp-local')).toHaveLength(0);
  });

  it('keeps the password encrypted with the master key and never answers it', async () => {
    expect((await json(a, 'PUT', '/api/replications/rp-local', push())).statusCode).toBe(201);
    const [row] = await rows('rp-local');
    expect(row!.config).not.toContain(SECRET);
    const stored = JSON.parse(row!.config).password as string;
    expect(isEncrypted(stored)).toBe(true);
    expect(decryptSecret(a.ctx.masterKey, stored)).toBe(SECRET);
    for (const url of ['/api/replications/rp-local', '/api/replications', '/api/replication/rp-local']) {
      for (const node of [a, b]) {
        const res = await json(node, 'GET', url);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.body).not.toContain(SECRET);
        expect(res.body).not.toContain(stored);
        expect(res.body).not.toContain('"password"');
      }
    }
    // A PUT without a password for the same URL (a GET → PUT round trip) keeps it.
    const again = { ...(await json(a, 'GET', '/api/replications/rp-local')).json()[0], cronExp: '0 30 * * * ?' };
    expect((await json(a, 'PUT', '/api/replications/rp-local', again)).statusCode).toBe(201);
    expect(decryptSecret(a.ctx.masterKey, JSON.parse((await rows('rp-local'))[0]!.config).password)).toBe(SECRET);
  });

  it('configures a multi-push, updates one target and deletes one by url', async () => {
    const body = { cronExp: '0 0 /4 * * ?', enableEventReplication: true, replications: [push({ repoKey: 'rp-multi' }), push({ url: T2, repoKey: 'rp-multi', password: 'other-secret' })] };
    const put = await json(a, 'PUT', '/api/replications/multiple/rp-multi', body);
    expect(put.statusCode, put.body).toBe(201);
    const got = (await json(b, 'GET', '/api/replications/rp-multi')).json() as Array<Record<string, unknown>>;
    expect(got.map((t) => t.url)).toEqual([T1, T2]);
    expect(got.every((t) => t.cronExp === '0 0 /4 * * ?' && t.enableEventReplication === true)).toBe(true);
    // POST multiple updates the named target and keeps the other.
    const upd = await json(a, 'POST', '/api/replications/multiple/rp-multi', { cronExp: '0 0 /4 * * ?', replications: [{ url: T2, syncDeletes: true }] });
    expect(upd.statusCode, upd.body).toBe(200);
    const after = (await json(a, 'GET', '/api/replications/rp-multi')).json() as Array<Record<string, unknown>>;
    expect(after.map((t) => [t.url, t.syncDeletes])).toEqual([[T1, false], [T2, true]]);
    // A single-target POST on a multi-push must name the target.
    await expect400(await json(a, 'POST', '/api/replications/rp-multi', { syncDeletes: true }), 'url');
    expect(JSON.parse((await rows('rp-multi'))[1]!.config).password).not.toContain('other-secret');
    const status = await json(a, 'GET', '/api/replication/rp-multi');
    expect(status.json()).toMatchObject({ status: 'never_run', lastCompleted: null, targets: [{ url: T1, status: 'never_run' }, { url: T2, status: 'never_run' }] });
    const one = await json(a, 'DELETE', `/api/replications/rp-multi?url=${encodeURIComponent(T1)}`);
    expect(one.statusCode, one.body).toBe(200);
    expect(((await json(b, 'GET', '/api/replications/rp-multi')).json() as Array<{ url: string }>).map((t) => t.url)).toEqual([T2]);
    expect((await json(a, 'DELETE', `/api/replications/rp-multi?url=${encodeURIComponent(T1)}`)).statusCode).toBe(404);
    await expect400(await json(a, 'PUT', '/api/replications/multiple/rp-multi', { ...body, replications: [push({ repoKey: 'rp-multi' }), push({ repoKey: 'rp-multi' })] }), 'replications[1].url');
    await expect400(await json(a, 'PUT', '/api/replications/multiple/rp-multi', { ...body, replications: [push({ repoKey: 'rp-multi' }), { url: 'ftp://x.example.com/' }] }), 'replications[1].url');
    await expect400(await json(a, 'PUT', '/api/replications/multiple/rp-multi', { cronExp: '0 0 12 * * ?', replications: [] }), 'replications');
  });

  it('configures the pull of a remote repository and refuses push fields there', async () => {
    const put = await json(a, 'PUT', '/api/replications/rp-remote', { cronExp: '0 0 2 * * ?', enabled: true, syncDeletes: true, repoKey: 'rp-remote', url: '', username: '', password: '' });
    expect(put.statusCode, put.body).toBe(201);
    const got = await json(b, 'GET', '/api/replications/rp-remote');
    expect(got.json()).toEqual({ repoKey: 'rp-remote', enabled: true, cronExp: '0 0 2 * * ?', enableEventReplication: false, syncDeletes: true, syncProperties: true, pathPrefix: '' });
    expect((await json(a, 'POST', '/api/replications/rp-remote', { pathPrefix: 'org/' })).statusCode).toBe(200);
    expect((await json(a, 'GET', '/api/replications/rp-remote')).json()).toMatchObject({ pathPrefix: 'org/', syncDeletes: true });
    const all = (await json(a, 'GET', '/api/replications')).json() as Array<Record<string, unknown>>;
    expect(all.find((r) => r.repoKey === 'rp-remote')).toMatchObject({ replicationType: 'PULL' });
    await expect400(await json(a, 'PUT', '/api/replications/rp-remote', { cronExp: '0 0 2 * * ?', url: T1 }), 'url');
    await expect400(await json(a, 'PUT', '/api/replications/multiple/rp-remote', { cronExp: '0 0 2 * * ?', replications: [push()] }), 'repoKey');
  });

  it('answers 400 naming the field, 404 for an unknown repository, and writes nothing', async () => {
    const before = await rows('rp-local');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ url: 'ftp://site-b.example.com/x' })), 'url');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ url: 'https://user:pw@site-b.example.com/x' })), 'url');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ url: undefined })), 'url');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ cronExp: 'every day' })), 'cronExp');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ cronExp: '' })), 'cronExp');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ enabled: 'yes' })), 'enabled');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ socketTimeoutMillis: -1 })), 'socketTimeoutMillis');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ repoKey: 'other' })), 'repoKey');
    await expect400(await json(a, 'PUT', '/api/replications/rp-local', push({ password: 'x'.repeat(2000) })), 'password');
    await expect400(await json(a, 'PUT', '/api/replications/rp-virtual', push({ repoKey: 'rp-virtual' })), 'repoKey');
    const bad = await a.request({ method: 'PUT', url: '/artifactory/api/replications/rp-local', payload: '[1,2]', headers: { 'content-type': 'application/json' } });
    expect(bad.statusCode, bad.body).toBe(400);
    expect((await json(a, 'PUT', '/api/replications/no-such-repo', push({ repoKey: 'no-such-repo' }))).statusCode).toBe(404);
    expect((await json(a, 'GET', '/api/replication/no-such-repo')).statusCode).toBe(404);
    expect((await json(a, 'POST', '/api/replication/block?push=maybe')).statusCode).toBe(400);
    expect(await rows('rp-local')).toEqual(before);
  });

  it('is for administrators only: a user gets 403 before the body is read', async () => {
    for (const [method, url] of [
      ['GET', '/api/replications'],
      ['GET', '/api/replications/rp-local'],
      ['PUT', '/api/replications/rp-local'],
      ['POST', '/api/replications/rp-local'],
      ['DELETE', '/api/replications/rp-local'],
      ['PUT', '/api/replications/multiple/rp-local'],
      ['GET', '/api/replication/rp-local'],
      ['POST', '/api/replication/execute/rp-local'],
      ['POST', '/api/replication/block'],
      ['POST', '/api/system/replications/unblock'],
    ] as const) {
      const res = await json(a, method, url, method === 'GET' || method === 'DELETE' ? undefined : push(), LOW);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
      expect(res.body).not.toContain(SECRET);
    }
    const anon = await a.request({ method: 'PUT', url: '/artifactory/api/replications/rp-local', payload: push(), headers: { authorization: '' } });
    expect([401, 403]).toContain(anon.statusCode);
  });

  it('records run requests and the block switches, seen from the other node', async () => {
    expect((await json(a, 'PUT', '/api/replications/rp-local', push())).statusCode).toBe(201);
    const exec = await json(a, 'POST', '/api/replication/execute/rp-local');
    expect(exec.statusCode, exec.body).toBe(202);
    const status = (await json(b, 'GET', '/api/replication/rp-local')).json();
    // The execute starts the replication task at once: its run to the unreachable T1 may already be recorded as failed.
    expect(['never_run', 'failed']).toContain(status.status);
    expect(status).toMatchObject({ blocked: false, targets: [{ url: T1, repoKey: 'rp-local' }] });
    expect(typeof status.runRequested).toBe('string');
    const block = await json(a, 'POST', '/api/replication/block?push=true&pull=false');
    expect(block.statusCode, block.body).toBe(200);
    expect(block.json()).toEqual({ blocked: { push: true, pull: false } });
    expect((await json(b, 'GET', '/api/replication/rp-local')).json().blocked).toBe(true);
    expect((await json(b, 'GET', '/api/replication/rp-remote')).json().blocked).toBe(false);
    expect((await json(b, 'POST', '/api/system/replications/unblock')).json()).toEqual({ blocked: { push: false, pull: false } });
    expect((await json(a, 'POST', '/api/replication/execute/rp-multi-none')).statusCode).toBe(404);
  });

  it('serialises concurrent changes from both nodes: every one answers, the last whole set wins', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => ({
      cronExp: '0 0 12 * * ?',
      replications: Array.from({ length: 1 + (i % 3) }, (_, j) => push({ repoKey: 'rp-multi', url: `https://site-${i}-${j}.example.com/artifactory/t` })),
    }));
    const answers = await Promise.all(bodies.map((body, i) => json(i % 2 ? b : a, 'PUT', '/api/replications/multiple/rp-multi', body)));
    expect(answers.map((r) => r.statusCode)).toEqual(bodies.map(() => 201));
    const stored = await rows('rp-multi');
    expect(stored.map((r) => r.position)).toEqual(stored.map((_, i) => i));
    // The stored targets are exactly one request's set, never a mix.
    const site = new Set(stored.map((r) => /site-(\d+)-/.exec(r.url)![1]));
    expect(site.size).toBe(1);
    expect(stored).toHaveLength(bodies[Number([...site][0])]!.replications.length);
  });

  it('shows a change made on one node on the other at once, and drops it with the repository', async () => {
    expect((await json(a, 'PUT', '/api/replications/rp-local', push({ syncStatistics: true }))).statusCode).toBe(201);
    expect((await json(b, 'GET', '/api/replications/rp-local')).json()[0].syncStatistics).toBe(true);
    expect((await json(b, 'POST', '/api/replications/rp-local', { syncStatistics: false })).statusCode).toBe(200);
    expect((await json(a, 'GET', '/api/replications/rp-local')).json()[0].syncStatistics).toBe(false);
    expect((await json(a, 'DELETE', '/api/repositories/rp-local')).statusCode).toBe(200);
    expect(await rows('rp-local')).toHaveLength(0);
  });
});
