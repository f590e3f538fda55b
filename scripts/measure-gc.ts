/**
 * Times garbage collection at scale, in process, on a real database and file store:
 *
 *   node --import tsx scripts/measure-gc.ts [--dialect sqlite|postgresql] [--items 100000] [--garbage 0.01] [--src DIR]
 *
 * Loads `--items` small binaries (a file and a binaries row each) and one item per binary (50 per
 * folder) directly, deletes `--garbage` of the items, then runs GC twice: once on that garbage,
 * then again after deleting as many more. `--src` points at another checkout's `src` (to time
 * the GC of another revision on the same data); PostgreSQL uses ARCA_TEST_PG_URL (a throwaway
 * database is created and dropped).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const dialect = args.get('dialect') ?? 'sqlite';
const items = Number(args.get('items') ?? 100_000);
const garbage = Number(args.get('garbage') ?? 0.01);
const src = resolve(args.get('src') ?? join(import.meta.dirname, '..', 'src'));
const load = (p: string) => import(pathToFileURL(join(src, p)).href);

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'arca-measure-gc-'));

async function main(): Promise<void> {
  const { openDatabase } = await load('db/database.ts');
  const { migrate } = await load('db/migrate.ts');
  const { FileSystemProvider } = await load('binstore/file-system-provider.ts');
  const { ContentStore } = await load('content/content-store.ts');
  const binaries = await load('db/binaries.ts');
  let drop = async () => undefined as unknown;
  let config: unknown;
  if (dialect === 'postgresql') {
    const { parsePostgresUrl } = await load('config/db-config.ts');
    const admin = process.env.ARCA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `arca_measure_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`create database ${name}`);
    await c.end();
    const url = admin.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
    config = { type: 'postgresql', source: 'measure', pg: parsePostgresUrl(url), poolMaxActive: 10, poolMaxIdle: 10, displayUrl: url };
    drop = async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    };
  } else {
    const file = join(dir, 'arca.db');
    config = { type: 'sqlite', source: 'measure', sqliteFile: file, poolMaxActive: 1, poolMaxIdle: 1, displayUrl: file };
  }
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const store = join(dir, 'filestore');
    const provider = await new FileSystemProvider({ fileStoreDir: store, tempDir: join(dir, 'tmp') }).init();
    // Everything loaded counts as older than the grace period.
    const clock = { now: () => Date.now() + 3 * 3_600_000 };
    const content = new ContentStore(database, provider, clock);
    const now = Date.now();
    let t = performance.now();
    const ids: string[] = [];
    for (let start = 0; start < items; start += 500) {
      const bins = [];
      const rows = [];
      for (let i = start; i < Math.min(items, start + 500); i++) {
        const data = `file number ${i}\n`;
        const s = sha1(data);
        mkdirSync(join(store, s.slice(0, 2)), { recursive: true });
        writeFileSync(join(store, s.slice(0, 2), s), data);
        bins.push({ sha1: s, sha256: createHash('sha256').update(data).digest('hex'), md5: createHash('md5').update(data).digest('hex'), size: data.length, created: now });
        const folder = `folder-${Math.floor(i / 50)}`;
        const key = sha1(`r\u0000${folder}/file-${i}.bin`);
        ids.push(key);
        rows.push({ path_key: key, repo: 'r', path: folder, name: `file-${i}.bin`, type: 'file', sha1: s, sha256: bins[bins.length - 1].sha256, md5: bins[bins.length - 1].md5, size: data.length, created: now, created_by: 'u', modified: now, modified_by: 'u', updated: now });
      }
      await database.db.transaction().execute(async (trx: any) => {
        await trx.insertInto('binaries').values(bins).execute();
        await trx.insertInto('items').values(rows).execute();
      });
    }
    console.log(`loaded ${items} items, binaries and files in ${((performance.now() - t) / 1000).toFixed(1)} s (${src})`);
    if (binaries.foldReferenceLog) {
      t = performance.now();
      const folded = await binaries.foldReferenceLog(database.db);
      console.log(`folded the ${folded} log rows of the load in ${((performance.now() - t) / 1000).toFixed(2)} s (the previous GC's work)`);
    }
    if (dialect === 'postgresql') await database.db.executeQuery({ sql: 'analyze', parameters: [], query: { kind: 'RawNode' } } as never).catch(() => undefined);
    const scrape: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s0 = performance.now();
      await binaries.binaryTotals(database.db);
      scrape.push(performance.now() - s0);
    }
    scrape.sort((a, b) => a - b);
    console.log(`binaryTotals (the metrics scrape's query): p50 ${scrape[25].toFixed(2)} ms, max ${scrape[49].toFixed(2)} ms`);
    const step = Math.round(1 / garbage);
    for (const [run, offset] of [[1, 0], [2, Math.floor(step / 2)]] as const) {
      const doomed = ids.filter((_, i) => i % step === offset);
      for (let i = 0; i < doomed.length; i += 500) await database.db.deleteFrom('items').where('path_key', 'in', doomed.slice(i, i + 500)).execute();
      t = performance.now();
      const result = await content.collectGarbage(3_600_000);
      console.log(`GC run ${run}: ${((performance.now() - t) / 1000).toFixed(2)} s for ${doomed.length} deleted items: ${JSON.stringify(result)}`);
    }
  } finally {
    await database.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
