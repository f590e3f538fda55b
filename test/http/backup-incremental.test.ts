import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pathKey } from '../../src/db/items.js';
import { dump, populate, sha256, wipe } from '../helpers/backup-fixtures.js';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

const jsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every binary file under a backup's binaries/ (their SHA-1s). */
function binaryFiles(dir: string): string[] {
  const root = join(dir, 'binaries');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((shard) => readdirSync(join(root, shard))).sort();
}

describe.each(DIALECTS)('incremental backups on %s', (dialect) => {
  let node: TestNode;
  afterEach(async () => {
    await node?.close();
  });

  const run = (task: string, payload?: unknown) =>
    node.request({ method: 'POST', url: `/artifactory/api/system/tasks/${task}/run?wait=120`, ...(payload === undefined ? {} : { payload: payload as object }) });
  const ok = async (opts: Parameters<TestNode['request']>[0]) => {
    const res = await node.request(opts);
    expect(res.statusCode, `${opts.method} ${opts.url}: ${res.body}`).toBeLessThan(300);
    return res;
  };
  const backup = async () => {
    const res = await run('backup');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.status, body.error).toBe('SUCCEEDED');
    return body as { counts: Record<string, number>; result: { name: string; path: string; kind: string; removed: string[] } };
  };

  it('restores a full backup plus its incrementals: adds, overwrites, property changes and deletes', async () => {
    node = await startTestNode(dialect);
    await populate(node);
    const full = await backup();
    expect(full.result.kind).toBe('full');
    expect(JSON.parse(readFileSync(join(full.result.path, 'manifest.json'), 'utf8'))).toMatchObject({ kind: 'full', formatVersion: 1, sequence: 0 });

    // Changes: new files, an overwrite, property edits on a file and a folder, files deleted.
    const added = randomBytes(3000);
    await ok({ method: 'PUT', url: '/artifactory/libs-local/org/app/2.0/app-2.0.jar', payload: added });
    const overwritten = randomBytes(5000);
    await ok({ method: 'PUT', url: '/artifactory/libs-local/org/app/1.0/app-1.0.jar', payload: overwritten });
    await ok({ method: 'PUT', url: '/artifactory/api/storage/libs-local/org/app/1.0/app-1.0.pom?properties=qa=passed' });
    await ok({ method: 'DELETE', url: '/artifactory/api/storage/docs-local/guide?properties=owner' });
    await ok({ method: 'PUT', url: '/artifactory/docs-local/moved/copy.html', payload: Buffer.from('<h1>guide</h1>\n') });
    await ok({ method: 'DELETE', url: '/artifactory/docs-local/guide/copy.html' });
    await ok({ method: 'DELETE', url: '/artifactory/docs-local/guide/index.html' });
    const afterFirst = await dump(node);

    const first = await backup();
    expect(first.result.kind).toBe('incremental');
    const manifest = JSON.parse(readFileSync(join(first.result.path, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'incremental', formatVersion: 2, sequence: 1, base: full.result.name, previous: full.result.name });
    const items = jsonl(join(first.result.path, 'metadata', 'items.jsonl'));
    const names = items.map((i) => `${i.repo}/${i.path}/${i.name}`);
    expect(names).toEqual(expect.arrayContaining(['libs-local/org/app/2.0/app-2.0.jar', 'libs-local/org/app/1.0/app-1.0.jar', 'libs-local/org/app/1.0/app-1.0.pom', 'docs-local//guide', 'docs-local/moved/copy.html']));
    // Only what changed: the unchanged files of the full backup are not repeated.
    expect(names.filter((n) => n.startsWith('libs-local/org/app/1.0/') || n.startsWith('docs-local/moved/'))).toHaveLength(3);
    expect(items.find((i) => i.name === 'app-1.0.pom')?.properties).toEqual({ qa: ['passed'] });
    const deleted = jsonl(join(first.result.path, 'metadata', 'deleted.jsonl')).map((d) => d.path_key);
    expect(deleted.sort()).toEqual([pathKey('docs-local', 'guide/copy.html'), pathKey('docs-local', 'guide/index.html')].sort());
    // Two new binaries (moved/copy.html has the content of guide/index.html, which the full backup holds).
    expect(first.counts).toMatchObject({ binaries: 2, bytes: 3000 + 5000, deleted: 2 });
    expect(binaryFiles(first.result.path)).toEqual([added, overwritten].map(sha1).sort());

    // A second incremental: a deleted path comes back with content the chain already holds.
    await ok({ method: 'PUT', url: '/artifactory/docs-local/guide/index.html', payload: added });
    await ok({ method: 'DELETE', url: '/artifactory/libs-local/org/app/2.0' });
    const second = await backup();
    expect(second.result.kind).toBe('incremental');
    expect(second.counts).toMatchObject({ binaries: 0, presentBinaries: 1 });
    expect(JSON.parse(readFileSync(join(second.result.path, 'manifest.json'), 'utf8'))).toMatchObject({ sequence: 2, base: full.result.name, previous: first.result.name });
    const before = await dump(node);

    await wipe(node);
    const restored = await run('import', { path: 'latest' });
    expect(restored.json(), restored.body).toMatchObject({ status: 'SUCCEEDED', result: { name: second.result.name } });
    expect(restored.json().counts).toMatchObject({ items: before.items.length, properties: before.props.length });
    expect(await dump(node)).toEqual(before);
    const served = await node.request({ method: 'GET', url: '/artifactory/docs-local/guide/index.html' });
    expect(sha256(served.rawPayload)).toBe(sha256(added));

    // A restore point in the middle of the chain restores the state of its time.
    await wipe(node);
    expect((await run('import', { path: first.result.name })).json().status).toBe('SUCCEEDED');
    expect(await dump(node)).toEqual(afterFirst);

    // The restored state is no backup's: the next backup is a full one.
    expect((await backup()).result.kind).toBe('full');
  });

  it('an incremental backup with nothing changed writes almost nothing; one after 1 % changed copies only those binaries', async () => {
    node = await startTestNode(dialect);
    await ok({ method: 'PUT', url: '/artifactory/api/repositories/bulk-local', payload: { rclass: 'local', packageType: 'generic' } });
    const count = 200;
    for (let i = 0; i < count; i++) await ok({ method: 'PUT', url: `/artifactory/bulk-local/d${i % 4}/f${i}.bin`, payload: randomBytes(1000) });
    const full = await backup();
    expect(full.result.kind).toBe('full');
    expect(full.counts).toMatchObject({ files: count, binaries: count });

    const idle = await backup();
    expect(idle.result.kind).toBe('incremental');
    expect(idle.counts).toMatchObject({ items: 0, deleted: 0, binaries: 0, changes: 0 });
    expect(statSync(join(idle.result.path, 'metadata', 'items.jsonl')).size).toBe(0);
    expect(binaryFiles(idle.result.path)).toEqual([]);
    const written = readdirSync(idle.result.path, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
    const config = ['settings.json', 'repositories.json', 'security.json'].reduce((n, f) => n + statSync(join(idle.result.path, 'config', f)).size, 0);
    expect(written - config).toBeLessThan(4096);

    const changed = [randomBytes(1000), randomBytes(1000)];
    await ok({ method: 'PUT', url: '/artifactory/bulk-local/d1/f1.bin', payload: changed[0] });
    await ok({ method: 'PUT', url: '/artifactory/bulk-local/d2/f2.bin', payload: changed[1] });
    const small = await backup();
    expect(small.result.kind).toBe('incremental');
    expect(small.counts).toMatchObject({ files: 2, binaries: 2, bytes: 2000 });
    expect(binaryFiles(small.result.path)).toEqual(changed.map(sha1).sort());
    // 200 deploys and four backups: more than the default minute on a loaded machine.
  }, 180_000);

  it('starts a new chain every arca.backup.fullEvery backups, and retention keeps what a kept backup builds on', async () => {
    node = await startTestNode(dialect, { ARCA_BACKUP_FULLEVERY: '3', ARCA_BACKUP_RETENTIONCOUNT: '2' });
    await populate(node);
    const kinds: string[] = [];
    const names: string[] = [];
    const removed: string[][] = [];
    for (let i = 0; i < 5; i++) {
      await ok({ method: 'PUT', url: `/artifactory/libs-local/step/${i}.txt`, payload: `step ${i}\n` });
      const b = await backup();
      kinds.push(b.result.kind);
      names.push(b.result.name);
      removed.push(b.result.removed);
    }
    expect(kinds).toEqual(['full', 'incremental', 'incremental', 'full', 'incremental']);
    // After the 4th (a full), the newest two are the 3rd and 4th; the 3rd needs the 1st and 2nd.
    expect(removed[3]).toEqual([]);
    // After the 5th, nothing kept needs the first chain any more.
    expect(removed[4]).toEqual(names.slice(0, 3));
    expect(readdirSync(join(node.home, 'backup')).sort()).toEqual(names.slice(3).sort());

    // An export to the backup directory that is not part of the chain makes the next backup full.
    expect((await run('backup', { dir: join(node.home, 'backup') })).json().result.kind).toBe('full');
    expect((await backup()).result.kind).toBe('full');
  });

  it('refuses to restore an incremental backup whose chain is incomplete, changing nothing', async () => {
    node = await startTestNode(dialect, { ARCA_BACKUP_RETENTIONCOUNT: '0' });
    await populate(node);
    const full = await backup();
    await ok({ method: 'PUT', url: '/artifactory/libs-local/late.txt', payload: 'late\n' });
    const inc = await backup();
    const before = await dump(node);
    rmSync(join(full.result.path, 'manifest.json'));
    const res = (await run('import', { path: inc.result.name })).json();
    expect(res).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/it is incremental and the backup it follows, arca-backup-.*, is not a complete backup/) });
    expect(await dump(node)).toEqual(before);
  });
});
