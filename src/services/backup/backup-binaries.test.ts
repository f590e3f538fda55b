import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemProvider } from '../../binstore/file-system-provider.js';
import { ContentStore } from '../../content/content-store.js';
import { FakeClock } from '../../core/clock.js';
import { pathKey } from '../../db/items.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../db/testing/databases.js';
import { copyBinaries, referencedBinariesPage, TODO_FILE, writeReferencedBinaries } from './backup-binaries.js';
import { LineFile } from './backup-files.js';
import { binaryPath, FILES, type BackupCounts, type BinaryRecord } from './backup-format.js';

const hex = (algo: string, d: Buffer) => createHash(algo).update(d).digest('hex');
const record = (data: Buffer): BinaryRecord => ({ sha1: hex('sha1', data), sha256: hex('sha256', data), md5: hex('md5', data), size: data.length });
const item = (name: string, b: BinaryRecord) => ({
  path_key: pathKey('r', name), repo: 'r', path: '', name, type: 'file' as const,
  sha1: b.sha1, sha256: b.sha256, md5: b.md5, size: b.size,
  created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
});
const counts = (): BackupCounts & { linkedBinaries: number; presentBinaries: number } => ({
  repositories: 0, users: 0, groups: 0, permissionTargets: 0, accessTokens: 0, settings: 0,
  items: 0, files: 0, folders: 0, properties: 0, binaries: 0, bytes: 0, linkedBinaries: 0, presentBinaries: 0,
});
const readLines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '');

describe.each(DIALECTS)('backup binaries on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  beforeEach(async () => {
    t = await openTestDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), 'arca-backup-bin-'));
  });
  afterEach(async () => {
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every referenced binary once, in SHA-1 order, across pages, and no unreferenced one', async () => {
    const db = t.database.db;
    // 2,600 binaries: 2,100 referenced (some by several items), 500 not.
    const bins = Array.from({ length: 2600 }, (_, i) => record(Buffer.from(`binary ${i}`)));
    for (let i = 0; i < bins.length; i += 500) await db.insertInto('binaries').values(bins.slice(i, i + 500).map((b) => ({ ...b, created: 1 }))).execute();
    const items = bins.slice(0, 2100).flatMap((b, i) => (i % 3 === 0 ? [item(`a${i}`, b), item(`b${i}`, b)] : [item(`a${i}`, b)]));
    for (let i = 0; i < items.length; i += 500) await db.insertInto('items').values(items.slice(i, i + 500)).execute();
    const todo = new LineFile(dir, TODO_FILE);
    await writeReferencedBinaries(db, todo);
    await todo.close();
    const listed = readLines(join(dir, TODO_FILE)).map((l) => JSON.parse(l) as BinaryRecord);
    expect(listed).toEqual(bins.slice(0, 2100).sort((x, y) => (x.sha1 < y.sha1 ? -1 : 1)));
  });

  it('copies small and large binaries with their checksums checked, in order, and refuses a corrupt one', async () => {
    const provider = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
    const content = new ContentStore(t.database, provider, new FakeClock());
    try {
      // Small ones are read whole; one over 1 MiB is streamed.
      const data = [randomBytes(2 * 1024 * 1024 + 3), ...Array.from({ length: 40 }, (_, i) => Buffer.from(`small ${i}`))];
      const bins = data.map(record).sort((x, y) => (x.sha1 < y.sha1 ? -1 : 1));
      for (const [k, d] of data.entries()) {
        const b = record(d);
        mkdirSync(join(dir, 'filestore', b.sha1.slice(0, 2)), { recursive: true });
        writeFileSync(provider.pathOf(b.sha1), d);
        if (k === 0) expect(b.size).toBeGreaterThan(1 << 20);
      }
      const root = join(dir, 'backup');
      mkdirSync(join(root, 'metadata'), { recursive: true });
      const todo = new LineFile(root, TODO_FILE);
      for (const b of bins) await todo.line(b);
      await todo.close();
      const c = counts();
      const sums = new LineFile(root, FILES.sums);
      await copyBinaries({ content, dir, root, chain: [], incremental: false, counts: c }, sums);
      await sums.close();
      expect(c).toMatchObject({ binaries: 41, bytes: data.reduce((n, d) => n + d.length, 0) });
      expect(readLines(join(root, FILES.binaries)).map((l) => JSON.parse(l))).toEqual(bins);
      expect(readLines(join(root, FILES.sums))).toEqual(bins.map((b) => `${b.sha256}  ${binaryPath(b.sha1)}`));
      for (const [k, d] of data.entries()) expect(readFileSync(join(root, binaryPath(record(d).sha1))).equals(d), `binary ${k}`).toBe(true);

      // A store file that no longer matches its row (small and large alike) fails the backup.
      for (const d of [data[0], data[1]]) {
        const b = record(d);
        writeFileSync(provider.pathOf(b.sha1), Buffer.concat([d.subarray(0, d.length - 1), Buffer.from('!')]));
        const again = join(dir, `again-${b.sha1}`);
        mkdirSync(join(again, 'metadata'), { recursive: true });
        const one = new LineFile(again, TODO_FILE);
        await one.line(b);
        await one.close();
        const s = new LineFile(again, FILES.sums);
        await expect(copyBinaries({ content, dir, root: again, chain: [], incremental: false, counts: counts() }, s)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
        await s.close();
      }
    } finally {
      await content.md5Backfill.stop();
    }
  });
});

describe('the backup binaries walk plan on postgresql', () => {
  let t: TestDatabase;
  afterEach(async () => {
    await t?.drop();
  });

  it('reads binaries and items through their indexes from the page on, never from the start', async () => {
    t = await openTestDatabase('postgresql');
    const db = t.database.db;
    await sql`insert into binaries (sha1, sha256, md5, size, created) select (md5(g::text) || left(md5('x' || g::text), 8)), md5(g::text) || md5(g::text), md5(g::text), 1, 1 from generate_series(1, 20000) g`.execute(db);
    await sql`insert into items (path_key, repo, path, name, type, sha1, sha256, md5, size, created, created_by, modified, modified_by, updated)
      select md5('k' || g::text), 'r', '', 'f' || g::text, 'file', (md5(g::text) || left(md5('x' || g::text), 8)), md5(g::text) || md5(g::text), md5(g::text), 1, 1, 'u', 1, 'u', 1 from generate_series(1, 20000) g`.execute(db);
    await sql`analyze`.execute(db);
    const last = '8';
    const query = referencedBinariesPage(db, last).compile();
    const plan = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${query.sql.replace(/\$(\d+)/g, (_, n: string) => `'${String(query.parameters[Number(n) - 1])}'`)}`).execute(db);
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).not.toMatch(/Seq Scan/);
    // Whichever join the planner picks, each side starts at the page's key.
    expect(text).toMatch(/binaries_pkey[\s\S]*Index Cond: \(\(sha1\)::text > '8'::text\)/);
    expect(text).toMatch(/items_sha1[\s\S]*Index Cond: \(.*sha1.*'8'::text\)|items_sha1[\s\S]*Index Cond: \(sha1 = \(binaries\.sha1\)::text\)/);
  });
});
