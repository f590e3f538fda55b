import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wipe } from '../helpers/backup-fixtures.js';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/**
 * The build index is derived from the build items (issue 15, item 6): a backup holds the items
 * only, and an import, which writes items without deploys, rebuilds the index from them.
 */
describe.each(DIALECTS)('build index after an import on %s', (dialect) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode(dialect, { ARCA_BACKUP_INCREMENTAL: 'false' });
  });
  afterAll(async () => {
    await node?.close();
  });

  it('creates the build-info repository once when the first builds are published at once, and indexes a run published twice at once once', async () => {
    const doc = (name: string) => JSON.stringify({ name, number: '1', started: '2026-02-01T08:00:00.000+0000', modules: [{ id: 'm', artifacts: [{ name: 'x', sha1: sha1(name) }] }] });
    const first = await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => node.request({ method: 'PUT', url: '/artifactory/api/build', payload: doc(n) })));
    expect(first.map((r) => r.statusCode), first.map((r) => r.body).join('\n')).toEqual([204, 204, 204, 204, 204]);
    const same = await Promise.all(Array.from({ length: 6 }, () => node.request({ method: 'PUT', url: '/artifactory/api/build', payload: doc('twice') })));
    expect(same.map((r) => r.statusCode).filter((s) => s !== 204), same.map((r) => r.body).join('\n')).toEqual([]);
    const db = node.ctx.database.db;
    expect(await db.selectFrom('builds').select('item_id').where('name', '=', 'twice').execute()).toHaveLength(1);
    expect(await db.selectFrom('build_entries').select('sha1').where('sha1', '=', sha1('twice')).execute()).toHaveLength(1);
  });

  it('answers the builds of a restored backup, and finds their artifacts by AQL', async () => {
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/bi-dev', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    expect((await node.request({ method: 'PUT', url: '/artifactory/bi-dev/out/a.bin', payload: 'artifact a' })).statusCode).toBe(201);
    const doc = { name: 'restored', number: '3', started: '2026-02-01T08:00:00.000+0000', modules: [{ id: 'm', artifacts: [{ name: 'a.bin', sha1: sha1('artifact a') }] }] };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/build', payload: JSON.stringify(doc) })).statusCode).toBe(204);
    const backup = await node.request({ method: 'POST', url: '/artifactory/api/system/tasks/backup/run?wait=120' });
    expect(backup.statusCode, backup.body).toBe(200);
    await wipe(node);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/build/restored' })).statusCode).toBe(404);
    const imported = await node.request({ method: 'POST', url: '/artifactory/api/system/tasks/import/run?wait=120', payload: { path: backup.json().result.name } });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json().counts.buildInfoFiles).toBeGreaterThanOrEqual(1);
    const run = await node.request({ method: 'GET', url: '/artifactory/api/build/restored/3' });
    expect(run.statusCode, run.body).toBe(200);
    expect(run.json().buildInfo.started).toBe(doc.started);
    const aql = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', payload: 'items.find({"artifact.module.build.name":"restored","artifact.module.build.number":"3"})' });
    expect(aql.json().results.map((r: { name: string }) => r.name)).toEqual(['a.bin']);
  });
});
