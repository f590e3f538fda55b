import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { SYSTEM_ACCESS } from '../../src/security/access.js';
import { targetKey } from '../../src/services/replication/target-key.js';
import { DIALECTS } from '../helpers/databases.js';
import { multipartBody, twineFields, writeSdist } from '../helpers/pypi-fixtures.js';
import { startCluster, within, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { OciClient, type OciTarget } from './oci-client.js';

const T1 = 'https://site-b.example.com/artifactory/cap-target';
const HOUR = 3_600_000;
const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');

interface Event {
  kind: string;
  path: string;
  target: string;
  origin: string | null;
  sha1?: string;
  props?: Record<string, string[]>;
  to?: string;
}

/**
 * Event capture for replication (issue 16, item 3) on every dialect, on two nodes sharing one
 * database: every write path of a local repository with an event-replicated push target
 * enqueues the right events (kind, path, sha1, properties), a repository without one (or with
 * `enableEventReplication` off, or a disabled target) none; the configuration is made through
 * the API on node a and the writes happen on node b, whose capture learns of it through the
 * configuration version. A change from the target's own site is not queued for it, a rolled
 * back deploy leaves no event, and a deploy to a repository without targets makes no query
 * more than with no capture at all.
 */
describe.each(DIALECTS)('replication event capture on %s', (dialect) => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  const api = (node: ClusterNode, method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    node.request({ method, url: `/artifactory${url}`, headers, ...(payload === undefined ? {} : { payload: payload as string }) });
  const ok = async (p: Promise<{ statusCode: number; body: string }>, ...codes: number[]) => {
    const res = await p;
    expect(codes.length > 0 ? codes : [200, 201, 202, 204], res.body).toContain(res.statusCode);
    return res;
  };
  const events = async (repo: string): Promise<Event[]> =>
    (await a.ctx.database.db.selectFrom('replication_events').selectAll().where('repo', '=', repo).orderBy('id').execute()).map((r) => ({
      kind: r.kind,
      path: r.path,
      target: r.target,
      origin: r.origin,
      ...(JSON.parse(r.payload) as object),
    }));
  const kinds = async (repo: string) => (await events(repo)).map((e) => `${e.kind} ${e.path}`);
  const deploy = (node: ClusterNode, path: string, body: string, headers: Record<string, string> = {}) => ok(api(node, 'PUT', `/${path}`, body, headers), 201);
  const push = (repoKey: string, extra: Record<string, unknown> = {}) => ({ url: T1, username: 'u', password: 'Target-Passw0rd-1', cronExp: '0 0 12 * * ?', repoKey, enableEventReplication: true, ...extra });
  const seenByB = (repo: string, n: number) => within(10_000, async () => b.ctx.replicationCapture.targetsOf(repo).length === n);

  beforeAll(async () => {
    cluster = await startCluster(dialect, 2, { env: { ARCA_GC_GRACESECS: '3600', ARCA_GC_INTERVALSECS: '0' } });
    [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    for (const [key, packageType] of [
      ['cap-gen', 'generic'],
      ['cap-none', 'generic'],
      ['cap-off', 'generic'],
      ['cap-npm', 'npm'],
      ['cap-oci', 'docker'],
      ['cap-py', 'pypi'],
    ] as const) {
      await ok(api(a, 'PUT', `/api/repositories/${key}`, { rclass: 'local', packageType }), 200);
    }
    for (const key of ['cap-gen', 'cap-npm', 'cap-oci', 'cap-py']) await ok(api(a, 'PUT', `/api/replications/${key}`, push(key)), 201);
    await ok(api(a, 'PUT', '/api/replications/cap-off', push('cap-off', { enableEventReplication: false })), 201);
    await within(10_000, async () => (await api(b, 'GET', '/api/repositories/cap-py')).statusCode === 200);
    for (const key of ['cap-gen', 'cap-npm', 'cap-oci', 'cap-py']) await seenByB(key, 1);
  }, 180_000);
  afterAll(async () => cluster?.close());
  beforeEach(async () => {
    await a.ctx.database.db.deleteFrom('replication_events').execute();
  });

  it('records a deploy with its checksum and properties, a checksum deploy and a folder; nothing where no event target is', async () => {
    await deploy(b, 'cap-gen/dir/a.txt;build.name=app;stage=qa', 'alpha');
    await deploy(b, 'cap-gen/dir/again.txt', '', { 'x-checksum-deploy': 'true', 'x-checksum-sha1': sha1('alpha') });
    await ok(api(b, 'PUT', '/cap-gen/folder/'), 201);
    for (const repo of ['cap-none', 'cap-off']) await deploy(b, `${repo}/dir/a.txt;x=1`, 'alpha');
    const got = await events('cap-gen');
    expect(got).toEqual([
      { kind: 'deploy', path: 'dir/a.txt', target: targetKey('cap-gen', T1), origin: null, sha1: sha1('alpha'), sha256: expect.any(String), size: 5, props: { 'build.name': ['app'], stage: ['qa'] } },
      { kind: 'deploy', path: 'dir/again.txt', target: targetKey('cap-gen', T1), origin: null, sha1: sha1('alpha'), sha256: expect.any(String), size: 5, props: {} },
      { kind: 'deploy', path: 'folder', target: targetKey('cap-gen', T1), origin: null, props: {} },
    ]);
    expect(await events('cap-none')).toEqual([]);
    expect(await events('cap-off')).toEqual([]);
  });

  it('leaves properties too large for an event out of it; the change still succeeds', async () => {
    const big = 'v'.repeat(1500);
    await deploy(b, 'cap-gen/big/a.txt', 'big props');
    const repo = (await b.ctx.repos.get('cap-gen'))!;
    expect(await b.ctx.storageApi.setProperties(SYSTEM_ACCESS, repo, 'big/a.txt', { k1: [big], k2: [big], k3: [big] }, false)).toBe(1);
    const [, e] = await events('cap-gen');
    expect(e).toMatchObject({ kind: 'props', path: 'big/a.txt', sha1: sha1('big props') });
    expect(e!.props).toBeUndefined();
  });

  it('records property changes, one props event per changed item of a recursive change, and PATCH /api/metadata', async () => {
    for (const f of ['p/one.txt', 'p/sub/two.txt']) await deploy(b, `cap-gen/${f}`, f);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'PUT', '/api/storage/cap-gen/p/one.txt?properties=k=v&recursive=0'), 204);
    expect(await events('cap-gen')).toEqual([expect.objectContaining({ kind: 'props', path: 'p/one.txt', sha1: sha1('p/one.txt'), props: { k: ['v'] } })]);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'PUT', '/api/storage/cap-gen/p?properties=r=1&recursive=1'), 204);
    const rec = await events('cap-gen');
    expect(rec.map((e) => `${e.kind} ${e.path}`).sort()).toEqual(['props p', 'props p/one.txt', 'props p/sub', 'props p/sub/two.txt']);
    expect(rec.find((e) => e.path === 'p/one.txt')!.props).toEqual({ k: ['v'], r: ['1'] });
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'DELETE', '/api/storage/cap-gen/p/one.txt?properties=k&recursive=0'), 204);
    expect(await events('cap-gen')).toEqual([expect.objectContaining({ kind: 'props', path: 'p/one.txt', props: { r: ['1'] } })]);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'PATCH', '/api/metadata/cap-gen/p/sub/two.txt', '{"props":{"stage":"prod"}}', { 'content-type': 'application/json' }), 204);
    expect(await events('cap-gen')).toEqual([expect.objectContaining({ kind: 'props', path: 'p/sub/two.txt', props: { r: ['1'], stage: ['prod'] } })]);
    // No event target, no event.
    await deploy(b, 'cap-none/p/one.txt', 'x');
    await ok(api(b, 'PUT', '/api/storage/cap-none/p?properties=r=1&recursive=1'), 204);
    expect(await events('cap-none')).toEqual([]);
  });

  it('records deletes (into the trash, for good, of a folder) after they committed, and trash restores as deploys', async () => {
    for (const f of ['d/one.txt', 'd/sub/two.txt', 'd/three.txt']) await deploy(b, `cap-gen/${f}`, f);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'DELETE', '/cap-gen/d/three.txt'), 204);
    await ok(api(b, 'DELETE', '/cap-gen/d/sub'), 204);
    expect(await kinds('cap-gen')).toEqual(['delete d/three.txt', 'delete d/sub']);
    expect((await events('cap-gen'))[0]).toEqual({ kind: 'delete', path: 'd/three.txt', target: targetKey('cap-gen', T1), origin: null });
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'POST', '/api/trash/restore/cap-gen/d/sub'), 202);
    expect(await events('cap-gen')).toEqual([expect.objectContaining({ kind: 'deploy', path: 'd/sub/two.txt', sha1: sha1('d/sub/two.txt') })]);
    // For good (the trash can off): still one delete event.
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await b.ctx.packages.deploy.delete((await b.ctx.repos.get('cap-gen'))!, 'd', SYSTEM_ACCESS, { permanent: true });
    expect(await kinds('cap-gen')).toEqual(['delete d']);
    expect(await events('cap-none')).toEqual([]);
  });

  it('records copies as deploys at the destination and moves as deploys there and a delete at the source', async () => {
    await deploy(b, 'cap-gen/src/f.txt;p=1', 'copied');
    await deploy(b, 'cap-none/elsewhere/g.txt', 'from elsewhere');
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'POST', '/api/copy/cap-gen/src/f.txt?to=/cap-gen/copy/f.txt'), 200);
    expect(await events('cap-gen')).toEqual([expect.objectContaining({ kind: 'deploy', path: 'copy/f.txt', sha1: sha1('copied'), props: { p: ['1'] } })]);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'POST', '/api/move/cap-gen/src?to=/cap-gen/moved'), 200);
    expect(await kinds('cap-gen')).toEqual(['deploy moved', 'deploy moved/f.txt', 'delete src']);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    // Into the replicated repository from one without targets: the destination records.
    await ok(api(b, 'POST', '/api/move/cap-none/elsewhere/g.txt?to=/cap-gen/in/g.txt'), 200);
    expect(await kinds('cap-gen')).toEqual(['deploy in/g.txt']);
    expect(await events('cap-none')).toEqual([]);
  });

  it('records an npm publish (tarball and package document), a dist-tag change and an unpublish', async () => {
    const npm = (method: 'PUT' | 'DELETE' | 'GET', url: string, body?: unknown) =>
      b.request({ method, url: `/artifactory/api/npm/cap-npm${url}`, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const pkg = packPackage({ name: 'caphello', version: '1.0.0' });
    await ok(npm('PUT', '/caphello', publishBody(pkg)), 201);
    const pub = await events('cap-npm');
    expect(pub.map((e) => `${e.kind} ${e.path}`)).toEqual(['deploy caphello/-/caphello-1.0.0.tgz', 'deploy .npm/caphello/package.json']);
    expect(pub[0]).toMatchObject({ sha1: sha1(pkg.tarball), props: { 'npm.name': ['caphello'], 'npm.version': ['1.0.0'] } });
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(npm('PUT', '/-/package/caphello/dist-tags/stable', '"1.0.0"'), 200, 201);
    expect(await kinds('cap-npm')).toEqual(['deploy .npm/caphello/package.json']);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    const rev = (await npm('GET', '/caphello')).json()._rev as string;
    await ok(npm('DELETE', `/caphello/-rev/${rev}`), 200);
    expect((await kinds('cap-npm')).sort()).toEqual(['delete .npm/caphello', 'delete caphello']);
  });

  it('records OCI manifests, tags and blob links, never upload session parts, and the GC of untagged manifests', async () => {
    const target: OciTarget = {
      repoKey: 'cap-oci',
      close: async () => undefined,
      async request(method, path, opts = {}) {
        const r = await b.request({ method: method as 'GET', url: path, headers: opts.headers, payload: opts.body });
        return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
      },
    };
    const c = new OciClient(target, 'cap-oci');
    const img = await c.pushImage('app', 'v1', { layers: [`${dialect} layer`] });
    const got = await events('cap-oci');
    const paths = got.map((e) => e.path);
    expect(paths.every((p) => !/_uploads\/[0-9a-f]{8}-/.test(p)), paths.join('\n')).toBe(true);
    expect(got.every((e) => e.kind === 'deploy')).toBe(true);
    const digest = img.digest;
    expect(paths).toEqual(expect.arrayContaining(['app/v1/manifest.json', `app/${digest}/manifest.json`, expect.stringMatching(/^app\/_uploads\/sha256__[0-9a-f]{64}$/)]));
    expect(got.find((e) => e.path === 'app/v1/manifest.json')!.sha1).toBe(sha1(img.manifest));
    // Untag, then collect the untagged manifest.
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    expect((await c.t.request('DELETE', c.url('app', 'manifests/v1'))).status).toBe(202);
    expect(await kinds('cap-oci')).toEqual(['delete app/v1']);
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    const db = a.ctx.database.db;
    await db.updateTable('items').set((eb) => ({ created: eb('created', '-', 2 * HOUR), updated: eb('updated', '-', 2 * HOUR) })).execute();
    await db.updateTable('binaries').set((eb) => ({ created: eb('created', '-', 2 * HOUR) })).execute();
    await ok(api(a, 'POST', '/api/system/storage/gc'), 200);
    expect(await kinds('cap-oci')).toEqual(expect.arrayContaining([`delete app/${digest}`]));
  });

  it('records a PyPI upload (the file and what the format stores beside it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-cap-pypi-'));
    try {
      writeSdist(join(dir, 'a.tar.gz'), 'cappkg', '1.0');
      const sdist = readFileSync(join(dir, 'a.tar.gz'));
      const { body, contentType } = multipartBody({ fields: twineFields('cappkg', '1.0', sdist, 'sdist'), filename: 'cappkg-1.0.tar.gz', content: sdist });
      const res = await b.request({ method: 'POST', url: '/artifactory/api/pypi/cap-py', headers: { 'content-type': contentType }, payload: body });
      expect(res.statusCode, res.body).toBe(200);
      const got = await events('cap-py');
      expect(got.find((e) => e.path.endsWith('/cappkg-1.0.tar.gz'))).toMatchObject({ kind: 'deploy', sha1: sha1(sdist) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records build info published and deleted through /api/build', async () => {
    const started = (n: number) => new Date(Date.parse('2026-01-10T10:00:00.000Z') + n * 60_000).toISOString().replace('Z', '+0000');
    const build = (n: number) => JSON.stringify({ version: '1.0.1', name: 'capapp', number: String(n), started: started(n), modules: [] });
    const publish = (n: number) => ok(api(b, 'PUT', '/api/build', build(n), { 'content-type': 'application/json' }), 204);
    // The build-info repository is made on first use; then it gets an event-replicated target.
    await publish(1);
    await ok(api(a, 'PUT', '/api/replications/artifactory-build-info', push('artifactory-build-info')), 201);
    await seenByB('artifactory-build-info', 1);
    await publish(2);
    const [e] = await events('artifactory-build-info');
    expect(e).toMatchObject({ kind: 'deploy', path: expect.stringMatching(/^capapp\/2-/), sha1: expect.stringMatching(/^[0-9a-f]{40}$/) });
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await ok(api(b, 'DELETE', '/api/build/capapp?buildNumbers=2'), 200);
    expect(await events('artifactory-build-info')).toEqual([expect.objectContaining({ kind: 'delete', path: e!.path })]);
    await ok(api(a, 'DELETE', '/api/replications/artifactory-build-info'), 200);
  });

  it('follows configuration changes made on the other node: disabled, event replication off, removed, added again', async () => {
    await ok(api(a, 'POST', '/api/replications/cap-gen', { enabled: false }), 200);
    await seenByB('cap-gen', 0);
    await deploy(b, 'cap-gen/cfg/a.txt', 'disabled');
    await ok(api(a, 'POST', '/api/replications/cap-gen', { enabled: true, enableEventReplication: false }), 200);
    await deploy(b, 'cap-gen/cfg/b.txt', 'events off');
    expect(b.ctx.replicationCapture.targetsOf('cap-gen')).toEqual([]);
    expect(await events('cap-gen')).toEqual([]);
    await ok(api(a, 'POST', '/api/replications/cap-gen', { enableEventReplication: true }), 200);
    await seenByB('cap-gen', 1);
    await deploy(b, 'cap-gen/cfg/c.txt', 'on again');
    expect(await kinds('cap-gen')).toEqual(['deploy cfg/c.txt']);
    await ok(api(a, 'DELETE', '/api/replications/cap-gen'), 200);
    await seenByB('cap-gen', 0);
    await ok(api(a, 'PUT', '/api/replications/cap-gen', push('cap-gen')), 201);
    // The node that made the change records at once, with no wait.
    await a.ctx.database.db.deleteFrom('replication_events').execute();
    await deploy(a, 'cap-gen/cfg/d.txt', 'at once');
    expect(await kinds('cap-gen')).toEqual(['deploy cfg/d.txt']);
    await seenByB('cap-gen', 1);
  });

  it('does not queue a change for the target of the site it came from, and records the origin otherwise', async () => {
    await a.ctx.database.db.updateTable('replications').set({ last_run: JSON.stringify({ status: 'ok', lastCompleted: null, siteId: 'site-b' }) }).where('repo_key', '=', 'cap-gen').execute();
    await b.ctx.replicationCapture.reload();
    expect(b.ctx.replicationCapture.targetsOf('cap-gen')).toEqual([{ key: targetKey('cap-gen', T1), siteId: 'site-b' }]);
    const repo = (await b.ctx.repos.get('cap-gen'))!;
    const req = (path: string, origin: string) => ({ repo, path, folder: false, body: Readable.from([Buffer.from(path)]), expected: {}, checksumDeploy: false, user: 'admin', properties: {}, access: SYSTEM_ACCESS, origin });
    await b.ctx.packages.deploy.deploy(req('o/from-b.txt', 'site-b'));
    await b.ctx.packages.deploy.deploy(req('o/from-c.txt', 'site-c'));
    await b.ctx.packages.deploy.delete(repo, 'o/from-b.txt', SYSTEM_ACCESS, { origin: 'site-b' });
    await b.ctx.storageApi.setProperties(SYSTEM_ACCESS, repo, 'o/from-c.txt', { k: ['v'] }, false, { origin: 'site-b' });
    expect((await events('cap-gen')).map((e) => `${e.kind} ${e.path} ${e.origin}`)).toEqual(['deploy o/from-c.txt site-c']);
  });

  it('writes no event for a deploy that rolled back', async () => {
    const repo = (await b.ctx.repos.get('cap-gen'))!;
    // An origin longer than the queue's column fails the enqueue inside the deploy's transaction.
    const failing = b.ctx.packages.deploy.deploy({ repo, path: 'rb/x.txt', folder: false, body: Readable.from([Buffer.from('x')]), expected: {}, checksumDeploy: false, user: 'admin', properties: {}, access: SYSTEM_ACCESS, origin: 'o'.repeat(200) });
    await expect(failing).rejects.toThrow(/too long/);
    expect((await api(b, 'GET', '/api/storage/cap-gen/rb/x.txt')).statusCode).toBe(404);
    // A checksum mismatch is refused before anything is written.
    await ok(api(b, 'PUT', '/cap-gen/rb/y.txt', 'y', { 'x-checksum-sha1': sha1('not y') }), 409);
    expect(await events('cap-gen')).toEqual([]);
  });

  it('makes no query more for a deploy to a repository without event targets', async () => {
    const scope = new AsyncLocalStorage<{ n: number; sql: string[] }>();
    const counter: KyselyPlugin = {
      transformQuery(args) {
        const s = scope.getStore();
        if (s) s.n++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const database = b.ctx.database as { db: Database['db']; changeCapture?: Database['changeCapture'] };
    const original = database.db;
    const capture = database.changeCapture;
    database.db = original.withPlugin(counter);
    const count = async (path: string) => {
      const s = { n: 0, sql: [] };
      await scope.run(s, () => deploy(b, path, `content of ${path}`));
      return s.n;
    };
    try {
      // Warm caches (repositories, security) first, then the same deploy with and without the capture.
      await count('cap-none/q/warm.txt');
      const withCapture = [await count('cap-none/q/a.txt'), await count('cap-none/q/b.txt')];
      database.changeCapture = undefined;
      const without = [await count('cap-none/q/c.txt'), await count('cap-none/q/d.txt')];
      database.changeCapture = capture;
      expect(withCapture[0]).toBeGreaterThan(0);
      expect(withCapture).toEqual(without);
      // The counter does see the recording of a repository with a target.
      expect(await count('cap-gen/q/e.txt')).toBeGreaterThan(withCapture[0]);
    } finally {
      database.db = original;
      database.changeCapture = capture;
    }
  });
});
