/**
 * Times the searches in-process, straight on the database (no HTTP), at several repository
 * sizes: `searchItems` as the search API calls it, on items inserted directly (50 files per
 * folder, one binary and two properties per file), after ANALYZE. docs/performance.md
 * ("Query plans") has the figures.
 *
 *   node --import tsx scripts/search-timing.ts [--dialect sqlite|postgresql|mysql] [--sizes 1000,100000] [--runs 30]
 *
 * PostgreSQL: ARCA_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) names a
 * server where the script may create and drop a database of its own; MySQL/MariaDB:
 * ARCA_MYSQL_URL (default mysql://root@127.0.0.1:3306/mysql) likewise.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { parseMysqlUrl, parsePostgresUrl, type DatabaseConfig } from '../src/config/db-config.js';
import { openDatabase, type Database, type DialectName } from '../src/db/database.js';
import { pathKey } from '../src/db/items.js';
import { migrate } from '../src/db/migrate.js';
import { searchItems, type ItemSearch } from '../src/db/search-queries.js';

const { values: args } = parseArgs({
  options: { dialect: { type: 'string', default: 'postgresql' }, sizes: { type: 'string', default: '1000,100000' }, runs: { type: 'string', default: '30' } },
});
const dialect = args.dialect as DialectName;
const sizes = args.sizes!.split(',').map(Number);
const runs = Number(args.runs);

const hex = (s: string, alg: string) => createHash(alg).update(s).digest('hex');

/** A fresh database of its own, and how to drop it. */
async function scratch(): Promise<{ database: Database; drop(): Promise<void> }> {
  const name = `arca_timing_${randomBytes(5).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'arca-timing-'));
    const file = join(dir, 'arca.db');
    const database = await openDatabase({ type: 'sqlite', source: 'timing', sqliteFile: file, poolMaxActive: 1, poolMaxIdle: 1, displayUrl: file });
    return { database, drop: async () => (await database.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  if (dialect === 'postgresql') {
    const { default: pg } = await import('pg');
    const admin = process.env.ARCA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const run = async (q: string) => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(q);
      await c.end();
    };
    await run(`create database ${name}`);
    const url = admin.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
    const config: DatabaseConfig = { type: 'postgresql', source: 'timing', pg: parsePostgresUrl(url), poolMaxActive: 4, poolMaxIdle: 4, displayUrl: url };
    const database = await openDatabase(config);
    return { database, drop: async () => (await database.close(), await run(`drop database ${name} with (force)`)) };
  }
  const mysql = await import('mysql2/promise');
  const admin = process.env.ARCA_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql';
  const run = async (q: string) => {
    const c = await mysql.createConnection({ uri: admin });
    await c.query(q);
    await c.end();
  };
  await run(`create database ${name} character set utf8mb4 collate utf8mb4_bin`);
  const url = admin.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  const database = await openDatabase({ type: 'mysql', source: 'timing', mysql: parseMysqlUrl(url), poolMaxActive: 4, poolMaxIdle: 4, displayUrl: url });
  return { database, drop: async () => (await database.close(), await run(`drop database ${name}`)) };
}

async function fill(database: Database, n: number): Promise<void> {
  const db = database.db;
  for (let i = 0; i < n; i += 500) {
    const items = [];
    const folders = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const path = `f-${Math.floor(j / 50)}`;
      if (j % 50 === 0) folders.push({ path_key: pathKey('big', path), repo: 'big', path: '', name: path, type: 'folder' as const, size: 0, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1 });
      const full = `${path}/file-${j}.bin`;
      items.push({
        path_key: pathKey('big', full), repo: 'big', path, name: `file-${j}.bin`, type: 'file' as const,
        sha1: hex(full, 'sha1'), sha256: hex(full, 'sha256'), md5: hex(full, 'md5'),
        size: 10, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
      });
    }
    if (folders.length > 0) await db.insertInto('items').values(folders).execute();
    await db.insertInto('items').values(items).execute();
    const inserted = await db.selectFrom('items').select(['id', 'name']).where('path_key', 'in', items.map((r) => r.path_key)).execute();
    await db
      .insertInto('item_props')
      .values(inserted.flatMap((r) => [{ item_id: r.id, prop_key: 'build.number', prop_value: String(Number(/\d+/.exec(r.name)![0]) % 1000) }]))
      .execute();
  }
  if (dialect === 'postgresql') await sql`analyze`.execute(db);
  else if (dialect === 'mysql') await sql`analyze table items, item_props`.execute(db);
  else await sql`analyze`.execute(db);
}

async function p50(work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const SEARCHES: [string, Omit<ItemSearch, 'repos' | 'limit'>][] = [
  ['name, exact `FILE-123.bin`', { filesOnly: true, name: 'FILE-123.bin' }],
  ['name, prefix `file-123*`', { filesOnly: true, name: 'file-123*' }],
  ['name, contains `*ile-123*`', { filesOnly: true, name: '*ile-123*' }],
  ['checksum, sha1', { filesOnly: true, sha1: hex('f-2/file-123.bin', 'sha1') }],
  ['property `build.number=123`', { properties: [{ key: 'build.number', values: ['123'] }] }],
  ['property `build.number=12*`', { properties: [{ key: 'build.number', values: ['12*'] }] }],
];

const results = new Map<string, string[]>();
for (const n of sizes) {
  const { database, drop } = await scratch();
  try {
    await migrate(database);
    await fill(database, n);
    for (const [label, search] of SEARCHES) {
      let found = 0;
      const ms = await p50(async () => {
        found = (await searchItems(database.db, dialect, { ...search, repos: ['big'], limit: 10_000 })).length;
      });
      const row = results.get(label) ?? [];
      row.push(`${ms.toFixed(2)} ms (${found})`);
      results.set(label, row);
    }
  } finally {
    await drop();
  }
}
console.log(`| ${dialect}: search (rows found) | ${sizes.map((n) => `${n.toLocaleString('en')} items`).join(' | ')} |`);
console.log(`|---|${sizes.map(() => '---').join('|')}|`);
for (const [label, row] of results) console.log(`| ${label} | ${row.join(' | ')} |`);
