import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { pathKey } from '../../src/db/items.js';
import { pruneTrash } from '../../src/services/trash/trash-can.js';
import { parse as parseYaml } from 'yaml';
import { chartTgz } from '../helpers/helm-charts.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const LOW = basic('trashlow', 'Trash-Low-Passw0rd!');
const MGR = basic('trashmgr', 'Trash-Mgr-Passw0rd!');
const DAY = 86_400_000;
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/**
 * The trash can (issue 15, item 7) on every dialect: a delete moves items to `auto-trashcan`
 * with the seed's trash properties (a metadata move: reference counts unchanged, GC keeps the
 * binary), restore brings them back with their checksum and properties, clean/empty/the
 * retention task delete for good, the switch turns it off, and only administrators see it.
 */
describe.each(DIALECTS)('trash can on %s', (dialect) => {
  let node: TestNode;
  const put = async (path: string, body: string) => {
    const res = await node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: body });
    expect(res.statusCode, `${path}: ${res.body}`).toBe(201);
  };
  const del = (path: string, authorization?: string) => node.request({ method: 'DELETE', url: `/artifactory/${path}`, headers: authorization ? { authorization } : {} });
  const get = (path: string, authorization?: string) => node.request({ method: 'GET', url: `/artifactory/${path}`, headers: authorization ? { authorization } : {} });
  const props = async (path: string) => {
    const res = await node.request({ method: 'GET', url: `/artifactory/api/storage/${path}?properties` });
    return res.statusCode === 200 ? (res.json().properties as Record<string, string[]>) : undefined;
  };
  const binary = (sha: string) => node.ctx.database.db.selectFrom('binaries').select(['sha1', 'ref_count']).where('sha1', '=', sha).executeTakeFirst();
  const refs = async (sha: string) => {
    const db = node.ctx.database.db;
    const base = Number((await binary(sha))?.ref_count ?? 0);
    const log = await db.selectFrom('binary_ref_log').select((eb) => eb.fn.sum<number>('delta').as('d')).where('sha1', '=', sha).executeTakeFirst();
    return base + Number(log?.d ?? 0);
  };
  const setConfig = async (yaml: string) => {
    const res = await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: yaml });
    expect(res.statusCode, res.body).toBe(200);
  };
  const runTask = async (name: string) => {
    const res = await node.request({ method: 'POST', url: `/artifactory/api/system/tasks/${name}/run?wait=60` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status, res.body).toBe('SUCCEEDED');
    return res.json() as { counts: Record<string, number>; result: Record<string, unknown> };
  };
  /** Makes every binary old enough for GC (arca.gc.graceSecs) and trashed items `days` old. */
  const age = async (days: number) => {
    const db = node.ctx.database.db;
    await db.updateTable('binaries').set((eb) => ({ created: eb('created', '-', 2 * DAY) })).execute();
    await db.updateTable('trash_items').set((eb) => ({ trashed_at: eb('trashed_at', '-', days * DAY) })).execute();
  };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['tr-a', 'tr-b']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/trashlow', payload: { email: 't@example.com', password: 'Trash-Low-Passw0rd!' } });
    expect([200, 201]).toContain(user.statusCode);
    // The low user may do everything in tr-a (and so delete there), nothing in tr-b.
    const perm = { name: 'tr-low', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['tr-a'], actions: { users: { trashlow: ['read', 'write', 'delete', 'annotate'] } } } };
    const res = await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/tr-low', payload: perm });
    expect([200, 201], res.body).toContain(res.statusCode);
    // The manager may manage tr-a (so restore from its trash), and only read tr-b.
    const mgr = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/trashmgr', payload: { email: 'm@example.com', password: 'Trash-Mgr-Passw0rd!' } });
    expect([200, 201]).toContain(mgr.statusCode);
    for (const [name, repo, actions] of [['tr-mgr-a', 'tr-a', ['read', 'write', 'delete', 'annotate', 'manage']], ['tr-mgr-b', 'tr-b', ['read']]] as const) {
      const t = { name, repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: [repo], actions: { users: { trashmgr: actions } } } };
      const r = await node.request({ method: 'POST', url: `/artifactory/api/v2/security/permissions/${name}`, payload: t });
      expect([200, 201], r.body).toContain(r.statusCode);
    }
  }, 60_000);
  afterAll(async () => node?.close());

  it('is on by default with a 14-day retention, as the seed', async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/system/configuration' });
    expect(res.body).toMatch(/<trashcanConfig>\s*<enabled>true<\/enabled>\s*<allowPermDeletes>false<\/allowPermDeletes>\s*<retentionPeriodDays>14<\/retentionPeriodDays>/);
    const bad = await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: 'trashcanConfig:\n  retentionPeriodDays: 0\n' });
    expect(bad.statusCode).toBe(400);
    // The retention task is a cluster task of the storage group, scheduled like GC (every 4 h).
    const tasks = (await node.request({ method: 'GET', url: '/artifactory/api/system/tasks' })).json().tasks as { name: string; group: string; schedule: unknown }[];
    const prune = tasks.find((t) => t.name === 'trash-prune');
    expect(prune?.group).toBe('storage');
    expect(prune?.schedule).toBe('every 14400s');
  });

  it('moves a deleted file to the trash with its properties and the trash properties, and restores it', async () => {
    await put('tr-a/dir/f.txt;team=core;tag=a;tag=b', 'file f');
    const sha = sha1('file f');
    const before = await refs(sha);
    expect(before).toBe(1);
    expect((await del('tr-a/dir/f.txt', LOW)).statusCode).toBe(204);
    expect((await get('tr-a/dir/f.txt')).statusCode).toBe(404);
    expect(await refs(sha)).toBe(1);
    const p = (await props('auto-trashcan/tr-a/dir/f.txt'))!;
    expect(p.team).toEqual(['core']);
    expect(p.tag).toEqual(['a', 'b']);
    expect(p['trash.deletedBy']).toEqual(['trashlow']);
    expect(p['trash.originalRepository']).toEqual(['tr-a']);
    expect(p['trash.originalRepositoryType']).toEqual(['generic']);
    expect(p['trash.originalPath']).toEqual(['dir/f.txt']);
    expect(Math.abs(Number(p['trash.time'][0]) - Date.now())).toBeLessThan(60_000);
    expect((await get('auto-trashcan/tr-a/dir/f.txt')).body).toBe('file f');

    const restored = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/dir/f.txt' });
    expect(restored.statusCode, restored.body).toBe(202);
    expect(restored.body).toBe('Successfully restored trash items');
    const back = await node.request({ method: 'GET', url: '/artifactory/api/storage/tr-a/dir/f.txt' });
    expect(back.json().checksums.sha1).toBe(sha);
    expect((await get('tr-a/dir/f.txt')).body).toBe('file f');
    const q = (await props('tr-a/dir/f.txt'))!;
    expect(q.team).toEqual(['core']);
    expect(q.tag).toEqual(['a', 'b']);
    expect(Object.keys(q).filter((k) => k.startsWith('trash.'))).toEqual(['trash.restoredTime']);
    expect((await get('auto-trashcan/tr-a/dir/f.txt')).statusCode).toBe(404);
    expect(await refs(sha)).toBe(1);
    // Its trash entry went with it (the prune has nothing to look at for it).
    expect(await node.ctx.database.db.selectFrom('trash_items').select('path_key').execute()).toEqual([]);
  });

  it('restores to another place with ?to=, and keeps the last of repeated deletes of a path', async () => {
    await put('tr-a/again.txt', 'first');
    expect((await del('tr-a/again.txt')).statusCode).toBe(204);
    await put('tr-a/again.txt', 'second');
    expect((await del('tr-a/again.txt')).statusCode).toBe(204);
    expect((await get('auto-trashcan/tr-a/again.txt')).body).toBe('second');
    expect(await refs(sha1('first'))).toBe(0);
    const res = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/again.txt?to=tr-b/elsewhere/again.txt' });
    expect(res.statusCode, res.body).toBe(202);
    expect((await get('tr-b/elsewhere/again.txt')).body).toBe('second');
    const none = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/again.txt' });
    expect(none.statusCode).toBe(404);
    const badTarget = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/x?to=no-such-repo/x' });
    expect(badTarget.statusCode).toBe(400);
  });

  it('moves a folder of many files in batches, and restores it whole', async () => {
    const n = 520; // more than one batch (500)
    for (let i = 0; i < n; i++) await put(`tr-a/big/sub${i % 7}/f${i}.bin`, `big ${i}`);
    expect((await del('tr-a/big')).statusCode).toBe(204);
    expect((await get('tr-a/big/sub0/f0.bin')).statusCode).toBe(404);
    const listing = await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-a/big?list&deep=1' });
    expect(listing.statusCode, listing.body).toBe(200);
    expect((listing.json().files as unknown[]).length).toBe(n);
    expect((await props('auto-trashcan/tr-a/big/sub3/f3.bin'))!['trash.originalPath']).toEqual(['big/sub3/f3.bin']);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/big' })).statusCode).toBe(202);
    expect((await get('tr-a/big/sub4/f515.bin')).body).toBe('big 515');
    const gone = await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-a/big' });
    expect(gone.statusCode).toBe(404);
  }, 120_000);

  it('keeps a trashed binary through GC, and frees it once the retention task expires it', async () => {
    await put('tr-a/gc/only.bin', 'only copy of this content');
    const sha = sha1('only copy of this content');
    expect((await del('tr-a/gc/only.bin')).statusCode).toBe(204);
    await age(0);
    await runTask('gc');
    expect(await binary(sha)).toBeDefined();
    expect(await node.ctx.content.provider.exists(sha)).toBe(true);
    expect((await get('auto-trashcan/tr-a/gc/only.bin')).body).toBe('only copy of this content');

    // Not yet expired: 13 days old is kept, 15 days old goes (with its emptied folders).
    await age(13);
    expect((await runTask('trash-prune')).counts.files).toBe(0);
    await age(2);
    const pruned = await runTask('trash-prune');
    expect(pruned.counts.files).toBeGreaterThanOrEqual(1);
    expect((await get('auto-trashcan/tr-a/gc/only.bin')).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-a/gc' })).statusCode).toBe(404);
    expect(await refs(sha)).toBe(0);
    await age(0);
    await runTask('gc');
    expect(await binary(sha)).toBeUndefined();
  }, 60_000);

  it('deletes for good in the trash can, with clean, with empty, and when switched off', async () => {
    await put('tr-a/c/one.txt', 'c one');
    await put('tr-a/c/two.txt', 'c two');
    await del('tr-a/c');
    expect((await del('auto-trashcan/tr-a/c/one.txt')).statusCode).toBe(204);
    expect((await get('auto-trashcan/tr-a/c/one.txt')).statusCode).toBe(404);
    const clean = await node.request({ method: 'DELETE', url: '/artifactory/api/trash/clean/tr-a/c' });
    expect(clean.statusCode, clean.body).toBe(204);
    expect((await get('auto-trashcan/tr-a/c/two.txt')).statusCode).toBe(404);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/api/trash/clean/tr-a/c' })).statusCode).toBe(404);

    await put('tr-a/e.txt', 'e');
    await del('tr-a/e.txt');
    const empty = await node.request({ method: 'POST', url: '/artifactory/api/trash/empty' });
    expect(empty.statusCode).toBe(202);
    expect(empty.body).toBe('Successfully deleted all trashcan items');
    expect((await get('auto-trashcan/tr-a/e.txt')).statusCode).toBe(404);

    await setConfig('trashcanConfig:\n  enabled: false\n');
    try {
      await put('tr-a/off.txt', 'switched off');
      expect((await del('tr-a/off.txt')).statusCode).toBe(204);
      expect((await get('auto-trashcan/tr-a/off.txt')).statusCode).toBe(404);
      expect(await refs(sha1('switched off'))).toBe(0);
    } finally {
      await setConfig('trashcanConfig:\n  enabled: true\n');
    }
  });

  it('trashes a whole repository (DELETE {repo}/) and restores it to its root', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/tr-whole', payload: { rclass: 'local', packageType: 'generic' } });
    await put('tr-whole/a.txt', 'whole a');
    await put('tr-whole/d/b.txt', 'whole b');
    expect((await del('tr-whole/')).statusCode).toBe(204);
    expect((await get('tr-whole/a.txt')).statusCode).toBe(404);
    expect((await get('auto-trashcan/tr-whole/d/b.txt')).body).toBe('whole b');
    expect((await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-whole' })).statusCode).toBe(202);
    expect((await get('tr-whole/a.txt')).body).toBe('whole a');
    expect((await get('tr-whole/d/b.txt')).body).toBe('whole b');
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-whole' })).statusCode).toBe(404);
    // A file restored to a repository's root keeps its name.
    await del('tr-whole/a.txt');
    expect((await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-whole/a.txt?to=tr-b' })).statusCode).toBe(202);
    expect((await get('tr-b/a.txt')).body).toBe('whole a');
  });

  it('lets a user who manages the original repository restore where they may deploy, and nowhere else', async () => {
    await put('tr-a/mgr/x.txt', 'managed');
    expect((await del('tr-a/mgr/x.txt', MGR)).statusCode).toBe(204);
    expect([403, 404]).toContain((await get('auto-trashcan/tr-a/mgr/x.txt', MGR)).statusCode);
    const elsewhere = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/mgr/x.txt?to=tr-b/x.txt', headers: { authorization: MGR } });
    expect(elsewhere.statusCode).toBe(403);
    expect((await get('tr-b/x.txt')).statusCode).toBe(404);
    const home = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/mgr/x.txt', headers: { authorization: MGR } });
    expect(home.statusCode, home.body).toBe(202);
    expect((await get('tr-a/mgr/x.txt', MGR)).body).toBe('managed');
  });

  it('survives two deletes of one folder at once: every file once in the trash, reference counts exact', async () => {
    for (let i = 0; i < 40; i++) await put(`tr-a/race/d${i % 4}/f${i}.txt`, `race ${i}`);
    const [a, b] = await Promise.all([del('tr-a/race'), del('tr-a/race')]);
    expect([a.statusCode, b.statusCode].sort()).toContain(204);
    for (const r of [a, b]) expect([204, 404], r.body).toContain(r.statusCode);
    const listing = await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-a/race?list&deep=1' });
    expect((listing.json().files as unknown[]).length).toBe(40);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/tr-a/race' })).statusCode).toBe(404);
    for (const i of [0, 17, 39]) expect(await refs(sha1(`race ${i}`))).toBe(1);
  });

  it('bounds a prune run: at most the given number of entries, oldest first, the rest left for the next run', async () => {
    for (let i = 0; i < 5; i++) {
      await put(`tr-a/bound/f${i}.txt`, `bound ${i}`);
      await del(`tr-a/bound/f${i}.txt`);
    }
    await age(20);
    const clock = { now: () => Date.now() };
    const first = await pruneTrash(node.ctx.database, clock, node.ctx.settings, { maxEntries: 2 });
    expect(first).toMatchObject({ entries: 2, more: true });
    const rest = await pruneTrash(node.ctx.database, clock, node.ctx.settings, { maxEntries: 1000 });
    expect(rest.more).toBe(false);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-a/bound' })).statusCode).toBe(404);
    expect(await node.ctx.database.db.selectFrom('trash_items').select('path_key').where('trashed_at', '<', Date.now() - 14 * DAY).execute()).toEqual([]);
  });

  it('restores a file into a folder named by ?to=, and deletes for good what the trash path would make too long', async () => {
    await put('tr-b/into/keep.txt', 'keep');
    await put('tr-a/into-me.txt', 'into me');
    await del('tr-a/into-me.txt');
    expect((await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/into-me.txt?to=tr-b/into' })).statusCode).toBe(202);
    expect((await get('tr-b/into/into-me.txt')).body).toBe('into me');

    const long = ['a', 'b', 'c', 'd'].map((c) => c.repeat(250)).join('/') + '/' + 'e'.repeat(15) + '.txt'; // 1023 characters; 1028 in the trash
    await put(`tr-a/${long}`, 'long path');
    expect((await del(`tr-a/${long}`)).statusCode).toBe(204);
    expect((await get(`tr-a/${long}`)).statusCode).toBe(404);
    expect(await refs(sha1('long path'))).toBe(0);
  });

  it('gets its retention entries back from a backup import', async () => {
    await put('tr-a/bk/kept.txt', 'backed up in the trash');
    await del('tr-a/bk/kept.txt');
    const db = node.ctx.database.db;
    const entries = () => db.selectFrom('trash_items').select(['path_key', 'trashed_at']).orderBy('path_key').execute();
    const before = await entries();
    expect(before.length).toBeGreaterThan(0);
    const backup = await node.request({ method: 'POST', url: '/artifactory/api/system/tasks/backup/run?wait=120' });
    expect(backup.json().status, backup.body).toBe('SUCCEEDED');
    await db.deleteFrom('trash_items').execute();
    const imported = await node.request({ method: 'POST', url: '/artifactory/api/system/tasks/import/run?wait=120', payload: { path: backup.json().result.path } });
    expect(imported.json().status, imported.body).toBe('SUCCEEDED');
    const key = pathKey('auto-trashcan', 'tr-a/bk/kept.txt');
    const was = before.find((e) => e.path_key === key);
    expect(was).toBeDefined();
    expect((await entries()).find((e) => e.path_key === key)).toEqual({ path_key: key, trashed_at: was!.trashed_at });
    expect((await get('auto-trashcan/tr-a/bk/kept.txt')).body).toBe('backed up in the trash');
  });

  it('puts a restored Helm chart back in index.yaml, and a restored Maven version back in maven-metadata.xml', async () => {
    const json = { 'content-type': 'application/json' };
    for (const [key, packageType] of [
      ['trash-helm', 'helm'],
      ['trash-maven', 'maven'],
    ]) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, headers: json, payload: JSON.stringify({ rclass: 'local', packageType }) });
      expect(res.statusCode, res.body).toBe(200);
    }
    const index = async () => parseYaml((await node.request({ url: '/artifactory/api/helm/trash-helm/index.yaml' })).body) as { entries: Record<string, Array<{ version: string }>> };
    for (const version of ['1.0.0', '1.1.0']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/trash-helm/web-${version}.tgz`, payload: chartTgz({ name: 'web', version }) });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect((await index()).entries.web.map((e) => e.version).sort()).toEqual(['1.0.0', '1.1.0']);
    expect((await del('trash-helm/web-1.0.0.tgz')).statusCode).toBe(204);
    expect((await index()).entries.web.map((e) => e.version)).toEqual(['1.1.0']);
    const restored = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/trash-helm/web-1.0.0.tgz' });
    expect(restored.statusCode, restored.body).toBe(202);
    expect((await index()).entries.web.map((e) => e.version).sort()).toEqual(['1.0.0', '1.1.0']);

    const versions = async () => /<versions>(.*)<\/versions>/s.exec((await get('trash-maven/org/acme/lib/maven-metadata.xml')).body)?.[1].match(/<version>[^<]+<\/version>/g);
    for (const v of ['1.0', '2.0']) await put(`trash-maven/org/acme/lib/${v}/lib-${v}.pom`, `<project><groupId>org.acme</groupId><artifactId>lib</artifactId><version>${v}</version></project>`);
    expect(await versions()).toEqual(['<version>1.0</version>', '<version>2.0</version>']);
    expect((await del('trash-maven/org/acme/lib/1.0')).statusCode).toBe(204);
    expect(await versions()).toEqual(['<version>2.0</version>']);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/trash-maven/org/acme/lib/1.0' })).statusCode).toBe(202);
    expect(await versions()).toEqual(['<version>1.0</version>', '<version>2.0</version>']);
  });

  it('does not trash the source of a move', async () => {
    await put('tr-a/mv.txt', 'moved content');
    const res = await node.request({ method: 'POST', url: '/artifactory/api/move/tr-a/mv.txt?to=/tr-b/mv.txt' });
    expect(res.statusCode, res.body).toBe(200);
    expect((await get('auto-trashcan/tr-a/mv.txt')).statusCode).toBe(404);
  });

  it('is for administrators only: browsing, deploying, clean, empty, and restore without manage and deploy rights', async () => {
    await put('tr-a/secret.txt', 'secret');
    await del('tr-a/secret.txt');
    expect([403, 404]).toContain((await get('auto-trashcan/tr-a/secret.txt', LOW)).statusCode);
    const listing = await node.request({ method: 'GET', url: '/artifactory/api/storage/auto-trashcan/tr-a', headers: { authorization: LOW } });
    expect([403, 404]).toContain(listing.statusCode);
    const restore = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/secret.txt', headers: { authorization: LOW } });
    expect(restore.statusCode).toBe(403);
    const into = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/tr-a/secret.txt?to=tr-b/secret.txt', headers: { authorization: LOW } });
    expect(into.statusCode).toBe(403);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/trash/empty', headers: { authorization: LOW } })).statusCode).toBe(403);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/api/trash/clean/tr-a', headers: { authorization: LOW } })).statusCode).toBe(403);
    expect((await get('auto-trashcan/tr-a/secret.txt')).body).toBe('secret');
    // Not deployable, even by an administrator; not listed among the repositories.
    expect((await node.request({ method: 'PUT', url: '/artifactory/auto-trashcan/x.txt', payload: 'x' })).statusCode).toBe(403);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/api/repositories/auto-trashcan' })).statusCode).toBe(400);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/repositories/auto-trashcan', payload: { description: 'x' } })).statusCode).toBe(400);
    const repos = await node.request({ method: 'GET', url: '/artifactory/api/repositories' });
    expect((repos.json() as { key: string }[]).map((r) => r.key)).not.toContain('auto-trashcan');
    // Searches of normal repositories do not find trashed items; an administrator's AQL does.
    const search = await node.request({ method: 'GET', url: '/artifactory/api/search/artifact?name=secret.txt' });
    expect((search.json().results as unknown[]).length).toBe(0);
    const aql = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', headers: { 'content-type': 'text/plain' }, payload: 'items.find({"repo":"auto-trashcan","name":"secret.txt"})' });
    expect(aql.statusCode, aql.body).toBe(200);
    expect(aql.json().results.map((r: { path: string }) => r.path)).toEqual(['tr-a']);
    const lowAql = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', headers: { 'content-type': 'text/plain', authorization: LOW }, payload: 'items.find({"repo":"auto-trashcan"})' });
    expect(lowAql.json().results).toEqual([]);
  });
});
