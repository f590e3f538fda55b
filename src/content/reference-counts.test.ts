import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, sql, type Compilable, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, freshDatabaseConfig, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { FileSystemProvider } from '../binstore/file-system-provider.js';
import type { Clock } from '../core/clock.js';
import { binaryTotals, exactReferenceCounts, findBinary, foldReferenceLog, garbageCandidates, garbageCandidatesQuery } from '../db/binaries.js';
import { openDatabase } from '../db/database.js';
import { deleteTree, getItem, putFile } from '../db/items.js';
import { migrate } from '../db/migrate.js';
import type { Schema } from '../db/schema.js';
import { ContentStore } from './content-store.js';

async function* once(data: Buffer) {
  yield data;
}

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Every binary's count of referencing items, straight from `items`. */
async function countsFromItems(db: Kysely<Schema>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('items')
    .select((eb) => ['sha1', eb.fn.countAll<number>().as('n')])
    .where('sha1', 'is not', null)
    .groupBy('sha1')
    .execute();
  return new Map(rows.map((r) => [r.sha1!, Number(r.n)]));
}

async function expectExact(db: Kysely<Schema>): Promise<void> {
  const truth = await countsFromItems(db);
  const binaries = await db.selectFrom('binaries').select(['sha1', 'ref_count']).execute();
  const exact = await exactReferenceCounts(db, binaries.map((b) => b.sha1));
  for (const b of binaries) expect({ sha1: b.sha1, refs: exact.get(b.sha1) }).toEqual({ sha1: b.sha1, refs: truth.get(b.sha1) ?? 0 });
  // Folded, the column alone is exact and the log is empty.
  await foldReferenceLog(db);
  const folded = await db.selectFrom('binaries').select(['sha1', 'ref_count']).execute();
  for (const b of folded) expect({ sha1: b.sha1, refs: Number(b.ref_count) }).toEqual({ sha1: b.sha1, refs: truth.get(b.sha1) ?? 0 });
  expect(await db.selectFrom('binary_ref_log').select('id').execute()).toEqual([]);
}

async function expectTotals(db: Kysely<Schema>): Promise<void> {
  const row = await db
    .selectFrom('binaries')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('size').as('bytes')])
    .where('size', '>=', 0)
    .executeTakeFirstOrThrow();
  const want = { count: Number(row.count), bytes: Number(row.bytes ?? 0) };
  // Read twice: past 64 change rows the first read folds them into one, and the sum stays.
  expect(await binaryTotals(db)).toEqual(want);
  expect(await binaryTotals(db)).toEqual(want);
  expect((await db.selectFrom('binary_totals').select('id').execute()).length).toBeLessThanOrEqual(65);
}

describe.each(DIALECTS)('binary reference counts on %s', (dialect) => {
  let tdb: TestDatabase;
  let dir: string;
  let store: ContentStore;
  const clock: Clock & { offset: number } = { offset: 0, now() { return Date.now() + this.offset; } };

  beforeEach(async () => {
    tdb = await openTestDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), 'arca-refs-'));
    const provider = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
    clock.offset = 0;
    store = new ContentStore(tdb.database, provider, clock);
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const content = (i: number) => Buffer.from(`content number ${i} `.repeat(i + 1));
  const deploy = async (path: string, data: Buffer) => {
    const staged = await store.stage(once(data));
    return store.commit(staged, (trx) => putFile(trx, { repo: 'r', fullPath: path, binary: staged, original: {}, mimeType: 'x', user: 'u', now: clock.now() }));
  };
  /** A checksum deploy (how a copy references an existing binary): no new file, one more reference. */
  const copy = async (from: string, to: string) => {
    const item = await getItem(tdb.database.db, 'r', from);
    if (!item?.sha1) return;
    const binary = await findBinary(tdb.database.db, { sha1: item.sha1 });
    if (!binary) return;
    await store.reference(binary, (trx) => putFile(trx, { repo: 'r', fullPath: to, binary, original: {}, mimeType: 'x', user: 'u', now: clock.now() }));
  };

  it('stay exact under concurrent deploys, overwrites with another binary, copies and deletes', async () => {
    const paths = Array.from({ length: 24 }, (_, i) => `d${i % 4}/f${i}.bin`);
    for (let i = 0; i < paths.length; i++) await deploy(paths[i], content(i % 6));
    const rnd = prng(14);
    const ops: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < 160; i++) {
      const p = paths[Math.floor(rnd() * paths.length)];
      const r = rnd();
      if (r < 0.35) ops.push(() => deploy(p, content(Math.floor(rnd() * 8))));
      else if (r < 0.55) ops.push(() => copy(p, `copies/c${i}.bin`));
      else if (r < 0.7) ops.push(() => deleteTree(tdb.database.db, 'r', p));
      else if (r < 0.75) ops.push(() => tdb.database.db.transaction().execute((trx) => deleteTree(trx, 'r', `d${i % 4}`)));
      else ops.push(() => deploy(`new/n${i % 30}.bin`, content(Math.floor(rnd() * 8))));
    }
    // Swaps: two paths overwritten crosswise with each other's binaries at the same time.
    await deploy('swap/a', content(20));
    await deploy('swap/b', content(21));
    for (let i = 0; i < 20; i++) {
      ops.push(() => deploy('swap/a', content(20 + ((i + 1) % 2))));
      ops.push(() => deploy('swap/b', content(20 + (i % 2))));
    }
    // Garbage collection runs meanwhile with no grace period, so every binary is a candidate the
    // moment its last reference goes (or before its first one commits).
    const gcs: Promise<unknown>[] = [];
    const all = ops.map((op, i) => {
      if (i % 40 === 20) gcs.push(store.collectGarbage(0));
      return op();
    });
    const settled = await Promise.allSettled([...all, ...gcs]);
    const failed = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    // Concurrent first deploys of one new path may meet on its unique key, and a copy whose
    // source binary was just collected is refused; nothing else fails (no deadlock between an
    // overwrite and the binary it drops, or between GC and a deploy).
    for (const f of failed) expect(String(f.reason?.message ?? f.reason)).toMatch(/unique|duplicate|Checksum deploy failed/i);
    expect(failed.length).toBeLessThan(ops.length / 10);
    await expectExact(tdb.database.db);
    await expectTotals(tdb.database.db);
    // Every item's binary is still there: row and file.
    const referenced = [...(await countsFromItems(tdb.database.db)).keys()];
    const rows = await tdb.database.db.selectFrom('binaries').select('sha1').where('sha1', 'in', referenced).execute();
    expect(rows.length).toBe(referenced.length);
    for (const sha1 of referenced) expect(await store.provider.exists(sha1)).toBe(true);
  }, 60_000);

  it('count a folder moved by update of its items and an item whose sha1 is cleared', async () => {
    const a = await deploy('m/a.bin', content(1));
    await deploy('m/b.bin', content(1));
    const db = tdb.database.db;
    await db.updateTable('items').set({ repo: 'other' }).where('path', '=', 'm').execute();
    await db.updateTable('items').set({ sha1: null }).where('name', '=', 'b.bin').execute();
    await expectExact(db);
    expect(Number((await db.selectFrom('binaries').select('ref_count').where('sha1', '=', a.row.sha1!).executeTakeFirstOrThrow()).ref_count)).toBe(1);
  });

  it('GC removes exactly the binaries at zero, and the totals follow', async () => {
    for (let i = 0; i < 30; i++) await deploy(`g/f${i}.bin`, content(i));
    for (let i = 0; i < 30; i += 3) await deleteTree(tdb.database.db, 'r', `g/f${i}.bin`);
    clock.offset = 2 * 3_600_000;
    const result = await store.collectGarbage(3_600_000);
    expect(result.binariesRemoved).toBe(10);
    expect(result.bytesRemoved).toBe([...Array(10).keys()].reduce((s, k) => s + content(3 * k).length, 0));
    const left = await tdb.database.db.selectFrom('binaries').select('sha1').execute();
    expect(left.map((b) => b.sha1).sort()).toEqual([...(await countsFromItems(tdb.database.db)).keys()].sort());
    await expectTotals(tdb.database.db);
    expect(await garbageCandidates(tdb.database.db, clock.now(), 100)).toEqual([]);
  });

  it('walks the store for orphan files only when due: first GC, the period, or after a failed commit of a new file', async () => {
    await deploy('w/kept.bin', content(1));
    const walkDue = async () => Number((await tdb.database.db.selectFrom('gc_state').select('value').where('name', '=', 'next_orphan_sweep').executeTakeFirstOrThrow()).value);
    clock.offset = 2 * 3_600_000;
    await store.collectGarbage(3_600_000);
    expect(await walkDue()).toBeGreaterThan(clock.now() + 23 * 3_600_000);
    // A crash left a file with no row: not looked for until a walk is due.
    const orphan = 'cd'.padEnd(40, '1');
    mkdirSync(join(dir, 'filestore', 'cd'), { recursive: true });
    writeFileSync(join(dir, 'filestore', 'cd', orphan), 'orphan');
    expect((await store.collectGarbage(0)).orphanFilesRemoved).toBe(0);
    expect(existsSync(join(dir, 'filestore', 'cd', orphan))).toBe(true);
    // A failed commit of content the store already holds asks for nothing…
    const fail = async (data: Buffer) => {
      const staged = await store.stage(once(data));
      await expect(store.commit(staged, async () => { throw new Error('refused'); })).rejects.toThrow('refused');
      return staged.sha1;
    };
    const due = await walkDue();
    await fail(content(1));
    expect(await walkDue()).toBe(due);
    // …one of new content leaves a file with no row, and the next GC walks.
    const failed = await fail(content(99));
    expect(await walkDue()).toBe(0);
    expect((await store.collectGarbage(0)).orphanFilesRemoved).toBe(2);
    expect(existsSync(join(dir, 'filestore', 'cd', orphan))).toBe(false);
    expect(await store.provider.exists(failed)).toBe(false);
    expect(await store.provider.exists((await getItem(tdb.database.db, 'r', 'w/kept.bin'))!.sha1!)).toBe(true);
  });

  it('the migration backfills counts and totals on a populated database', async () => {
    const fresh = await freshDatabaseConfig(dialect);
    const database = await openDatabase(fresh.config);
    try {
      await migrate(database, { before: '0009-binary-ref-counts' });
      const db = database.db as unknown as Kysely<any>;
      const sha = (i: number) => createHash('sha1').update(String(i)).digest('hex');
      for (let i = 0; i < 20; i++) await db.insertInto('binaries').values({ sha1: sha(i), sha256: '', md5: '', size: 100 + i, created: 1 }).execute();
      let n = 0;
      for (let i = 0; i < 20; i++) {
        for (let k = 0; k < i % 4; k++) {
          await db
            .insertInto('items')
            .values({ path_key: sha(1000 + n++), repo: 'r', path: '', name: `f${n}`, type: 'file', sha1: sha(i), size: 100 + i, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1 })
            .execute();
        }
      }
      await migrate(database);
      await expectExact(database.db);
      await expectTotals(database.db);
      expect(await binaryTotals(database.db)).toEqual({ count: 20, bytes: 20 * 100 + 190 });
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
});

describe.runIf(DIALECTS.includes('postgresql'))('GC candidates on postgresql', () => {
  it('are found through the binaries_garbage index, without a sequential scan or a look at items', async () => {
    const tdb = await openTestDatabase('postgresql');
    try {
      const db = tdb.database.db;
      // 40,000 referenced binaries and 400 at zero: the planner's choice is made on real sizes.
      await sql`insert into binaries (sha1, sha256, md5, size, created, ref_count)
        select md5(g::text) || substr(md5((g + 1)::text), 1, 8), '', '', 10, g, case when g % 100 = 0 then 0 else 1 + g % 3 end
        from generate_series(1, 40000) g`.execute(db);
      await sql`analyze binaries`.execute(db);
      const plan = async (q: Compilable) => {
        const c = q.compile();
        const res = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${c.sql}`, [...c.parameters]));
        return res.rows.map((r) => r['QUERY PLAN']).join('\n');
      };
      for (const after of [undefined, { created: 5000, sha1: '8' }]) {
        const text = await plan(garbageCandidatesQuery(db, 30000, 200, after));
        expect(text).toContain('binaries_garbage');
        expect(text).not.toMatch(/Seq Scan/);
        expect(text).not.toContain('items');
      }
      // The re-check under the lock reads the log through its sha1 index.
      await sql`insert into binary_ref_log (sha1, delta) select md5(g::text), 1 from generate_series(1, 20000) g`.execute(db);
      await sql`analyze binary_ref_log`.execute(db);
      const recheck = await plan(db.selectFrom('binary_ref_log').select((eb) => ['sha1', eb.fn.sum<number>('delta').as('d')]).where('sha1', 'in', ['a', 'b']).groupBy('sha1'));
      expect(recheck).not.toMatch(/Seq Scan/);
      const first = await garbageCandidates(db, 30000, 200);
      const rest = await garbageCandidates(db, 30000, 200, { created: Number(first[199].created), sha1: first[199].sha1 });
      expect([first.length, rest.length]).toEqual([200, 99]);
      expect([...first, ...rest].every((c) => Number(c.created) % 100 === 0 && Number(c.created) < 30000)).toBe(true);
    } finally {
      await tdb.drop();
    }
  }, 60_000);
});
