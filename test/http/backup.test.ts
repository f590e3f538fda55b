import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/services/backup/backup-format.js';
import { dump, populate, sha256, wipe } from '../helpers/backup-fixtures.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

describe.each(DIALECTS)('backup and import on %s', (dialect) => {
  let node: TestNode;
  beforeEach(async () => {
    // Full backups only: the incremental ones have their own suite (backup-incremental.test.ts).
    node = await startTestNode(dialect, { ARCA_BACKUP_RETENTIONCOUNT: '2', ARCA_BACKUP_INCREMENTAL: 'false' });
  });
  afterEach(async () => {
    await node?.close();
  });

  const run = (task: string, payload?: unknown) =>
    node.request({ method: 'POST', url: `/artifactory/api/system/tasks/${task}/run?wait=120`, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('backs up, wipes, imports: configuration, metadata and binaries come back identical', async () => {
    const files = await populate(node);
    await node.request({ method: 'POST', url: '/artifactory/api/security/token', payload: 'username=alice&scope=applied-permissions/user', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const publicKey = async () => {
      const res = await node.request({ url: '/artifactory/api/gpg/key/public' });
      expect(res.statusCode, res.body).toBe(200);
      return res.body;
    };
    // The default signing key (made on first use) goes with the backup.
    const signedWith = await publicKey();
    const before = await dump(node);
    const backup = await run('backup');
    expect(backup.statusCode, backup.body).toBe(200);
    expect(backup.json()).toMatchObject({ task: 'backup', status: 'SUCCEEDED', nodeId: 'test-node', counts: { repositories: 2, users: 2, groups: 1, permissionTargets: 1, files: 4, binaries: 3, properties: 6 } });
    const dir = backup.json().result.path as string;
    expect(dir.startsWith(join(node.home, 'backup', 'arca-backup-'))).toBe(true);
    // The checksum list covers every file, binaries included, as `sha256sum -c` reads it.
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.length).toBe(5 + 3);
    for (const line of sums) {
      const [sum, path] = line.split('  ');
      expect((await sha256File(join(dir, path))).sha256, path).toBe(sum);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'arca-backup', formatVersion: 1, nodeId: 'test-node', masterKeyFingerprint: expect.stringMatching(/^[0-9a-f]+$/) });

    await wipe(node);
    expect((await dump(node)).items).toEqual([]);
    // A new cluster would make a key of its own; the import brings the old one back.
    await node.ctx.database.db.deleteFrom('signing_keys').execute();
    await node.ctx.versions.change('security', async () => undefined);
    expect(await publicKey()).not.toBe(signedWith);
    const imported = await run('import', { path: backup.json().result.name });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(await publicKey()).toBe(signedWith);
    expect(imported.json()).toMatchObject({ status: 'SUCCEEDED', counts: { items: before.items.length, binaries: 3, bytes: 200_000 + 11 + 15 } });
    expect(await dump(node)).toEqual(before);

    // And the node serves what it restored.
    for (const [path, data] of Object.entries(files)) {
      const res = await node.request({ method: 'GET', url: `/artifactory/${path}` });
      expect(res.statusCode, path).toBe(200);
      expect(sha256(res.rawPayload)).toBe(sha256(data));
    }
    const asAlice = await node.request({ method: 'GET', url: '/artifactory/libs-local/org/app/1.0/app-1.0.pom', headers: { authorization: basic('alice', 'Alice-Pw1') } });
    expect(asAlice.statusCode).toBe(200);
  });

  it('imports nothing from a backup with a corrupt binary, a changed file or another master key', async () => {
    await populate(node);
    const backup = (await run('backup')).json();
    const before = await dump(node);
    const dir = backup.result.path as string;
    const binariesDir = join(dir, 'binaries');
    const shard = readdirSync(binariesDir)[0];
    const victim = join(binariesDir, shard, readdirSync(join(binariesDir, shard))[0]);
    const original = readFileSync(victim);
    writeFileSync(victim, Buffer.concat([original.subarray(0, original.length - 1), Buffer.from([original[original.length - 1] ^ 1])]));
    const corrupt = (await run('import', { path: dir })).json();
    expect(corrupt).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/binaries\/.* does not match its checksums/) });
    expect(await dump(node)).toEqual(before);
    expect(readdirSync(join(node.ctx.layout.data, 'tmp')).filter((n) => n.startsWith('upload-'))).toEqual([]);
    writeFileSync(victim, original);

    const items = join(dir, 'metadata', 'items.jsonl');
    const text = readFileSync(items, 'utf8');
    writeFileSync(items, text.replace('"build.number"', '"build.numbeR"'));
    expect((await run('import', { path: dir })).json().error).toMatch(/metadata\/items.jsonl does not match its checksum/);
    writeFileSync(items, text);

    const manifestFile = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, masterKeyFingerprint: 'f'.repeat(32) }));
    expect((await run('import', { path: dir })).json().error).toMatch(/made with another master key/);
    expect(await dump(node)).toEqual(before);

    const bad = await run('import', {});
    expect(bad.statusCode).toBe(400);
    expect((await run('import', { path: '../etc' })).statusCode).toBe(400);
    expect((await run('import', { path: 'arca-backup-missing' })).json().error).toMatch(/cannot read manifest.json/);
  });

  it('keeps the newest backups, hard-links unchanged binaries to the previous one, and lists the runs', async () => {
    await populate(node);
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = (await run('backup')).json();
      expect(res.status).toBe('SUCCEEDED');
      names.push(res.result.name);
      if (i > 0) expect(res.counts).toMatchObject({ binaries: 3, linkedBinaries: 3 });
      if (i === 2) expect(res.result.removed).toEqual([names[0]]);
    }
    const backupDir = join(node.home, 'backup');
    expect(readdirSync(backupDir).sort()).toEqual(names.slice(1).sort());
    const jar = readFileSync(join(backupDir, names[2], 'metadata', 'binaries.jsonl'), 'utf8').split('\n')[0];
    const sha1 = JSON.parse(jar).sha1 as string;
    expect(statSync(join(backupDir, names[2], 'binaries', sha1.slice(0, 2), sha1)).nlink).toBe(2);

    const tasks = (await node.request({ method: 'GET', url: '/artifactory/api/system/tasks' })).json();
    expect(tasks.node).toMatchObject({ id: 'test-node', eligible: true, mode: 'affinity' });
    expect(tasks.tasks.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['gc', 'backup', 'import']));
    expect(tasks.tasks.find((t: { name: string }) => t.name === 'backup')).toMatchObject({ group: 'storage', schedule: 'cron 0 0 2 * * ?', lastRun: { status: 'SUCCEEDED' } });
    const runs = (await node.request({ method: 'GET', url: '/artifactory/api/system/tasks/runs?task=backup' })).json().runs;
    expect(runs.map((r: { result: { name: string } }) => r.result.name)).toEqual([...names].reverse());
    expect((await node.request({ method: 'GET', url: `/artifactory/api/system/tasks/runs/${runs[0].id}` })).json()).toEqual(runs[0]);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/system/tasks/runs?task=nope' })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/system/tasks', headers: { authorization: basic('alice', 'Alice-Pw1') } })).statusCode).toBe(403);
  });

  it('answers the JFrog full system export and import calls', async () => {
    await populate(node);
    const before = await dump(node);
    const target = mkdtempSync(join(tmpdir(), 'arca-export-'));
    try {
      const exported = await node.request({ method: 'POST', url: '/artifactory/api/export/system', payload: { exportPath: target, includeMetadata: true } });
      expect(exported.statusCode, exported.body).toBe(200);
      expect(exported.body).toMatch(new RegExp(`^Exported the system to ${target}/arca-backup-`));
      const [name] = readdirSync(target);
      expect(existsSync(join(target, name, 'manifest.json'))).toBe(true);
      await wipe(node);
      const imported = await node.request({ method: 'POST', url: '/artifactory/api/import/system', payload: { importPath: join(target, name) } });
      expect(imported.statusCode, imported.body).toBe(200);
      expect(await dump(node)).toEqual(before);
      expect((await node.request({ method: 'POST', url: '/artifactory/api/export/system', payload: { exportPath: 'relative/dir' } })).json().errors[0].message).toBe(
        "'exportPath' must be an absolute path",
      );
      const failed = await node.request({ method: 'POST', url: '/artifactory/api/import/system', payload: { importPath: join(target, 'none') } });
      expect(failed.statusCode).toBe(409);
      expect(failed.json().errors[0].message).toMatch(/^Import failed \(run .*\): Not a usable backup/);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});
