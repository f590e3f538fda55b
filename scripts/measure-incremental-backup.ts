/**
 * Measures a full backup against an incremental one (1 % of the files changed) and an idle
 * incremental one, in process, on a repository bulk-loaded straight into the database and the
 * file store (issue 14, item 4). Usage:
 *
 *   node --import tsx scripts/measure-incremental-backup.ts [--items 10000,100000] [--dialect sqlite|postgresql]
 *
 * PostgreSQL: ARCA_MEASURE_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); the
 * script creates and drops a database of its own. Figures are in docs/performance.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { systemClock } from '../src/core/clock.js';
import { pathKey } from '../src/db/items.js';
import { createNodeContext, type NodeContext } from '../src/node/context.js';
import { exportBackup } from '../src/services/backup/backup-export.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const sizes = arg('items', '10000,100000').split(',').map(Number);
const dialect = arg('dialect', 'sqlite');
const pgUrl = process.env.ARCA_MEASURE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PER_FOLDER = 50;
const BATCH = 500;
const hex = (algo: string, d: Buffer) => createHash(algo).update(d).digest('hex');

/** A new binary in the file store, and its row. */
function binary(store: string, i: number) {
  const data = Buffer.concat([Buffer.from(`file ${i} `), randomBytes(24)]);
  const b = { sha1: hex('sha1', data), sha256: hex('sha256', data), md5: hex('md5', data), size: data.length, created: Date.now() };
  writeFileSync(join(store, b.sha1.slice(0, 2), b.sha1), data);
  return b;
}

async function load(ctx: NodeContext, store: string, files: number): Promise<void> {
  const db = ctx.database.db;
  const now = Date.now();
  const row = (path: string, name: string, b?: ReturnType<typeof binary>) => ({
    path_key: pathKey('bulk-local', path === '' ? name : `${path}/${name}`),
    repo: 'bulk-local', path, name, type: b ? ('file' as const) : ('folder' as const),
    sha1: b?.sha1 ?? null, sha256: b?.sha256 ?? null, md5: b?.md5 ?? null, size: b?.size ?? 0,
    created: now, created_by: 'admin', modified: now, modified_by: 'admin', updated: now,
  });
  for (let start = 0; start < files; start += BATCH) {
    const bins = [];
    const items = [];
    for (let i = start; i < Math.min(files, start + BATCH); i++) {
      const folder = `d${Math.floor(i / PER_FOLDER)}`;
      if (i % PER_FOLDER === 0) items.push(row('', folder));
      const b = binary(store, i);
      bins.push(b);
      items.push(row(folder, `f${i}.bin`, b));
    }
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('binaries').values(bins).execute();
      await trx.insertInto('items').values(items).execute();
    });
  }
}

/** Changes 1 % of the files: 60 % of those overwritten (a new binary), 20 % get a property, 20 % deleted. */
async function change(ctx: NodeContext, store: string, files: number): Promise<number> {
  const db = ctx.database.db;
  const n = Math.max(1, Math.floor(files / 100));
  const step = Math.floor(files / n);
  for (let k = 0; k < n; k++) {
    const i = k * step;
    const key = pathKey('bulk-local', `d${Math.floor(i / PER_FOLDER)}/f${i}.bin`);
    if (k % 5 < 3) {
      const b = binary(store, files + i);
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('binaries').values(b).execute();
        await trx.updateTable('items').set({ sha1: b.sha1, sha256: b.sha256, md5: b.md5, size: b.size, modified: Date.now(), updated: Date.now() }).where('path_key', '=', key).execute();
      });
    } else if (k % 5 === 3) {
      const item = await db.selectFrom('items').select('id').where('path_key', '=', key).executeTakeFirstOrThrow();
      await db.insertInto('item_props').values({ item_id: item.id, prop_key: 'qa', prop_value: 'passed' }).execute();
    } else {
      await db.deleteFrom('items').where('path_key', '=', key).execute();
    }
  }
  return n;
}

async function measure(files: number): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'arca-measure-backup-'));
  let dropPg: (() => Promise<void>) | undefined;
  mkdirSync(join(home, 'etc'), { recursive: true });
  if (dialect === 'postgresql') {
    const name = `arca_measure_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    writeFileSync(join(home, 'etc', 'db.properties'), `type=postgresql\nurl=${pgUrl.replace(/\/[^/]*$/, `/${name}`)}\n`);
    dropPg = async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const ctx = await createNodeContext({ home, env: { ARCA_ADMIN_PASSWORD: 'Measure-1', ARCA_SHARED_NODE_ID: 'measure' }, logger: pino({ level: 'silent' }) });
  try {
    const store = join(ctx.layout.data, 'filestore');
    for (let i = 0; i < 256; i++) mkdirSync(join(store, i.toString(16).padStart(2, '0')), { recursive: true });
    const t0 = performance.now();
    await load(ctx, store, files);
    const loaded = performance.now() - t0;
    const dir = join(home, 'backup');
    let run = 0;
    const backup = async () => {
      const start = performance.now();
      const cpu = process.cpuUsage();
      const out = await exportBackup(
        { database: ctx.database, content: ctx.content, clock: systemClock },
        { dir, runId: `run${++run}-${randomBytes(4).toString('hex')}`, nodeId: 'measure', arcaVersion: 'measure', masterKeyFingerprint: null, chain: { incremental: true, fullEvery: 0 } },
      );
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, out };
    };
    const full = await backup();
    const changed = await change(ctx, store, files);
    const inc = await backup();
    await backup();
    // The best of three: an idle backup lasts milliseconds, and the machine's noise is of that order.
    const idle = [await backup(), await backup(), await backup()].sort((a, b) => a.ms - b.ms)[0];
    const s = (ms: number) => `${(ms / 1000).toFixed(ms < 1000 ? 3 : 1)} s`;
    const f = (r: { ms: number; cpuMs: number } | number) => (typeof r === 'number' ? s(r) : `${s(r.ms)} (cpu ${s(r.cpuMs)})`);
    console.log(
      `| ${dialect} | ${files.toLocaleString('en')} | ${f(loaded)} | ${f(full)}, ${full.out.counts.binaries} binaries | ` +
        `${changed} changed: ${f(inc)}, ${inc.out.counts.items} items, ${inc.out.counts.deleted} deleted, ${inc.out.counts.binaries} binaries copied | ${f(idle)} |`,
    );
    if (full.out.kind !== 'full' || inc.out.kind !== 'incremental' || idle.out.kind !== 'incremental' || idle.out.counts.items !== 0) throw new Error('unexpected backup kinds');
  } finally {
    await ctx.close();
    await dropPg?.();
    rmSync(home, { recursive: true, force: true, maxRetries: 5 });
  }
}

console.log('| dialect | files | bulk load | full backup | incremental, 1 % changed | incremental, nothing changed |');
console.log('|---|---|---|---|---|---|');
for (const n of sizes) await measure(n);
