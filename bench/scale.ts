/**
 * `npm run bench -- --scale`: how the everyday operations cost as a repository grows (issue 14,
 * item 7). For each dialect, a fresh Arca home (and on PostgreSQL a throwaway database) is
 * bulk-loaded straight into the database (scale/loader.ts) to each size in turn — 1,000,
 * then grown to 100,000, then 1,000,000 — and at each size a real node (`arca start`) answers
 * sequential requests (scale/ops.ts) and runs GC and backups through its task API. One table
 * per dialect: p50/p99 per size, and the largest size against the smallest with the 2× target.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { parsePostgresUrl, type DatabaseConfig } from '../src/config/db-config.js';
import { startArca, type ArcaNode } from './lib/arca.js';
import { startBenchRun } from './lib/bench-run.js';
import { freePort } from './lib/http.js';
import { call, closeConnections, parallel, percentile, runTask, sample, type TaskOutcome } from './scale/client.js';
import { DOCKER, FILES_PER_FOLDER, filePath, GENERIC, leafFolder, NPM, PYPI } from './scale/layout.js';
import { createLoader } from './scale/loader.js';
import { isDeleted, opsFor, type RepoState } from './scale/ops.js';
import { renderScaleTable, type DialectResult, type SizeResult } from './scale/report.js';

const USAGE = `Usage: npm run bench -- --scale [options]

  --dialect D        sqlite, postgresql or both (default: both)
  --sizes N,N,…      artifact counts to grow through, ascending (default: 1000,100000,1000000 on
                     PostgreSQL; on SQLite the same, without sizes above 100000 unless given)
  --requests N       requests per operation and size (default 300; deploys too; 10 folder deletes)
  --op-budget S      stop sampling an operation after S seconds (default 10)
  --task-limit S     give up on a GC or backup run after S seconds (default 120); a task that
                     exceeded it is skipped at the larger sizes
  --backup-params J  JSON body of the backups after a change (default '{}'; e.g.
                     '{"incremental":true}' once backups are incremental)
  --ops ID,ID,…      time only these operations (a trailing * matches a prefix, e.g. get,aql-*)
  --no-tasks         no GC or backup runs
  --tasks T,T        only these task runs: gc (its deletes and the two GC runs), backup (the
                     first backup and the two after a change); default gc,backup
  --get-stats-off    at each size, also time the GET with download statistics off, then on again
                     (arca.downloadStats.enabled: false, then true; each after a restart)
  --workers N        arca start --workers N (default 1)
  --pg-url URL       PostgreSQL server to create the throwaway database on
                     (default postgres://postgres@127.0.0.1:5432/postgres)
  --no-analyze       no ANALYZE after each load (default: statistics are brought up to date,
                     as autovacuum does on PostgreSQL; with this, SQLite has what the node's
                     own PRAGMA optimize gives it)
  --keep-db          leave the PostgreSQL database in place at the end (its name is logged), to
                     look at plans on the largest size; drop it yourself afterwards
  --tmpdir DIR, --keep-tmp
`;

const MAX_SQLITE_DEFAULT = 100_000;

function log(msg: string): void {
  process.stderr.write(`[bench --scale ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function options(argv: string[]) {
  const { values: v } = parseArgs({
    args: argv.filter((a) => a !== '--scale'),
    options: {
      dialect: { type: 'string', default: 'both' },
      sizes: { type: 'string' },
      requests: { type: 'string', default: '300' },
      'op-budget': { type: 'string', default: '10' },
      'task-limit': { type: 'string', default: '120' },
      'backup-params': { type: 'string', default: '{}' },
      workers: { type: 'string', default: '1' },
      'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      tmpdir: { type: 'string' },
      'keep-tmp': { type: 'boolean', default: false },
      'keep-db': { type: 'boolean', default: false },
      'no-analyze': { type: 'boolean', default: false },
      ops: { type: 'string' },
      'no-tasks': { type: 'boolean', default: false },
      tasks: { type: 'string', default: 'gc,backup' },
      'get-stats-off': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  const sizes = v.sizes?.split(',').map((s) => num('sizes', s.trim().replace(/_/g, ''), 50));
  if (sizes && sizes.some((s, i) => i > 0 && s <= sizes[i - 1])) throw new Error('--sizes must be ascending');
  if (!['sqlite', 'postgresql', 'both'].includes(v.dialect!)) throw new Error(`--dialect must be sqlite, postgresql or both`);
  JSON.parse(v['backup-params']!);
  const taskKinds = v.tasks!.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (taskKinds.some((t) => t !== 'gc' && t !== 'backup')) throw new Error(`--tasks takes gc and/or backup, got '${v.tasks}'`);
  return {
    dialects: (v.dialect === 'both' ? ['sqlite', 'postgresql'] : [v.dialect]) as ('sqlite' | 'postgresql')[],
    sizes,
    requests: num('requests', v.requests!, 5),
    opBudgetMs: num('op-budget', v['op-budget']!, 1) * 1000,
    taskLimitS: num('task-limit', v['task-limit']!, 1),
    backupParams: JSON.parse(v['backup-params']!) as unknown,
    workers: num('workers', v.workers!, 1),
    pgUrl: v['pg-url']!,
    tmpdir: v.tmpdir,
    keepTmp: v['keep-tmp']!,
    keepDb: v['keep-db']!,
    analyze: !v['no-analyze'],
    ops: v.ops?.split(',').map((x) => x.trim()).filter((x) => x !== ''),
    tasks: !v['no-tasks'] && taskKinds.length > 0,
    taskKinds,
    getStatsOff: v['get-stats-off']!,
  };
}
type Options = ReturnType<typeof options>;

const DELETE_SAMPLES = 10;
/** The task runs of each size, in order. */
const TASK_ORDER = ['gc-1pct', 'gc-fixed', 'backup-full', 'backup-incr', 'backup-fixed'];

/** System settings of the bench's homes: no scheduled GC or backup, GC collects at once. */
const SYSTEM_YAML = `arca:
  logLevel: warn
  gc:
    intervalSecs: 0
    graceSecs: 0
  backup:
    cron: ""
`;

async function runDialect(dialect: 'sqlite' | 'postgresql', sizes: number[], o: Options, root: string): Promise<DialectResult> {
  const home = join(root, `home-${dialect}`);
  mkdirSync(join(home, 'etc'), { recursive: true });
  writeFileSync(join(home, 'etc', 'system.yaml'), SYSTEM_YAML);
  let config: DatabaseConfig;
  let dropDb = async () => {};
  if (dialect === 'postgresql') {
    const name = `arca_scale_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: o.pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = o.pgUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
    dropDb = async () => {
      if (o.keepDb) return log(`PostgreSQL: database ${name} kept (--keep-db); drop it with: drop database ${name} with (force)`);
      const c = new pg.Client({ connectionString: o.pgUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
    const conn = parsePostgresUrl(url);
    config = { type: 'postgresql', source: 'bench', pg: conn, poolMaxActive: 4, poolMaxIdle: 4, displayUrl: url };
    const props = [`type=postgresql`, `url=jdbc:postgresql://${conn.host}:${conn.port}/${name}`, conn.user ? `username=${conn.user}` : ''];
    writeFileSync(join(home, 'etc', 'db.properties'), `${props.join('\n')}\n`);
    log(`PostgreSQL: throwaway database ${name}`);
  } else {
    const file = join(home, 'data', 'arca.db');
    config = { type: 'sqlite', source: 'bench', sqliteFile: file, poolMaxActive: 1, poolMaxIdle: 1, displayUrl: file };
  }
  const logFile = join(root, `arca-${dialect}.log`);
  const start = async () => startArca({ home, port: await freePort(), workers: o.workers, logFile, timeoutMs: 120_000 });
  const result: DialectResult = { dialect, sizes: [] };
  let node: ArcaNode | undefined;
  try {
    node = await start();
    for (const [key, type] of [[GENERIC, 'generic'], [NPM, 'npm'], [PYPI, 'pypi'], [DOCKER, 'docker']]) {
      const r = await call(`${node.base}/api/repositories/${key}`, 'PUT', JSON.stringify({ rclass: 'local', packageType: type }), { 'content-type': 'application/json' });
      if (r.status !== 200 && r.status !== 201) throw new Error(`create ${key}: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
    }
    await node.stop();
    node = undefined;
    const state: RepoState = { size: 0, deleted: { folders: new Set(), files: new Set() } };
    const skip = new Map<string, string>();
    for (const size of sizes) {
      // Load (the node is stopped): grow the generic repository, add this size's delete folders.
      const t0 = performance.now();
      const database = await openDatabase(config);
      try {
        await migrate(database);
        const loader = createLoader(database, join(home, 'data', 'filestore'));
        if (state.size === 0) await loader.packages();
        let last = 0;
        await loader.grow(state.size, size, (done) => {
          if (performance.now() - last > 5000) {
            last = performance.now();
            log(`${dialect}: loading ${(state.size + done).toLocaleString('en-US')} / ${size.toLocaleString('en-US')}`);
          }
        });
        await loader.formats(state.size, size);
        await loader.deleteFolders(String(size), DELETE_SAMPLES);
        // Planner statistics as fresh as autovacuum keeps them on PostgreSQL; on SQLite as a
        // node that keeps them fresh would have them (--no-analyze: only what the node does).
        if (o.analyze) await sql`analyze`.execute(database.db);
        // A task run that overran at the last size was stopped with the node: not to be taken up again.
        await database.db.updateTable('task_runs').set({ status: 'ABANDONED', ended_at: Date.now() }).where('status', 'in', ['QUEUED', 'RUNNING']).execute();
      } finally {
        await database.close();
      }
      const loadS = (performance.now() - t0) / 1000;
      state.size = size;
      log(`${dialect}: ${size.toLocaleString('en-US')} artifacts loaded in ${loadS.toFixed(1)} s; starting Arca`);
      node = await start();
      const sr: SizeResult = { size, loadS, ops: {}, tasks: {} };
      result.sizes.push(sr);
      await measureOps(node, state, sr, o);
      if (o.tasks) await measureTasks(node, state, sr, o, skip);
      if (o.getStatsOff) {
        // The same GETs with download statistics off: what counting them costs.
        closeConnections();
        await node.stop();
        writeFileSync(join(home, 'etc', 'system.yaml'), `${SYSTEM_YAML}  downloadStats:\n    enabled: false\n`);
        node = await start();
        await measureOps(node, state, sr, { ...o, ops: ['get'] }, ' (download statistics off)', '-stats-off');
        // And on again after a restart like the one above: the first GET row ran right after the
        // load's start, before the other operations warmed the node and the database's caches.
        closeConnections();
        await node.stop();
        writeFileSync(join(home, 'etc', 'system.yaml'), SYSTEM_YAML);
        node = await start();
        await measureOps(node, state, sr, { ...o, ops: ['get'] }, ' (download statistics on, restarted)', '-stats-on');
      }
      closeConnections();
      await node.stop();
      node = undefined;
    }
  } finally {
    closeConnections();
    await node?.stop();
    await dropDb().catch((err) => log(`could not drop the database: ${(err as Error).message}`));
  }
  return result;
}

async function measureOps(node: ArcaNode, state: RepoState, sr: SizeResult, o: Options, labelSuffix = '', idSuffix = ''): Promise<void> {
  const wanted = (id: string) => !o.ops || o.ops.some((w) => (w.endsWith('*') ? id.startsWith(w.slice(0, -1)) : id === w));
  const ops = opsFor(node.base, state, String(state.size), state.size).filter((op) => wanted(op.id));
  // Warm-up (20 requests, at most 3 s): the first requests of each kind pay for JIT and lazy loading.
  // The first request of each is logged: it also pays for what is done once per load (say, the
  // npm search rows of documents loaded straight into the database).
  for (const op of ops.filter((x) => x.kind === 'read')) {
    const until = performance.now() + 3000;
    for (let k = 0; k < 20 && performance.now() < until; k++) {
      const t = performance.now();
      await op.request(1000 + k);
      if (k === 0) log(`${state.size.toLocaleString('en-US')}: ${op.label}: first request ${(performance.now() - t).toFixed(1)} ms`);
    }
  }
  for (const op of ops) {
    const n = op.kind === 'delete' ? DELETE_SAMPLES : o.requests;
    const s = await sample(n, o.opBudgetMs, (k) => op.request(k), (r, k) => op.check(r, k));
    sr.ops[op.id + idSuffix] = { label: op.label + labelSuffix, p50: percentile(s.ms, 50), p99: percentile(s.ms, 99), n: s.ms.length, errors: s.errors, firstError: s.firstError };
    log(`${state.size.toLocaleString('en-US')}: ${op.label}${labelSuffix}: p50 ${percentile(s.ms, 50).toFixed(2)} ms, p99 ${percentile(s.ms, 99).toFixed(2)} ms (${s.ms.length} requests${s.errors ? `, ${s.errors} errors: ${s.firstError}` : ''})`);
  }
}

/** Deletes `count` files of the generic repository through the API: whole leaf folders from the end, then single files. */
async function deleteFiles(node: ArcaNode, state: RepoState, count: number): Promise<number> {
  const paths: string[] = [];
  let left = count;
  for (let f = Math.floor((state.size - 1) / FILES_PER_FOLDER); f >= 0 && left > 0; f--) {
    if (state.deleted.folders.has(f)) continue;
    const first = f * FILES_PER_FOLDER;
    const files = Array.from({ length: Math.min(FILES_PER_FOLDER, state.size - first) }, (_, j) => first + j).filter((i) => !isDeleted(state, i));
    if (files.length <= left) {
      paths.push(leafFolder(first));
      state.deleted.folders.add(f);
      left -= files.length;
    } else {
      for (const i of files.slice(0, left)) {
        paths.push(filePath(i));
        state.deleted.files.add(i);
      }
      left = 0;
    }
  }
  await parallel(paths.length, 4, async (k) => {
    const r = await call(`${node.base}/${GENERIC}/${paths[k]}`, 'DELETE');
    if (r.status !== 204 && r.status !== 200) throw new Error(`DELETE ${paths[k]}: HTTP ${r.status}`);
  });
  return count - left;
}

async function measureTasks(node: ArcaNode, state: RepoState, sr: SizeResult, o: Options, skip: Map<string, string>): Promise<void> {
  const onePercent = Math.max(1, Math.round(state.size / 100));
  const task = async (id: string, name: string, params: unknown, change: number) => {
    const why = skip.get(id);
    if (why) {
      sr.tasks[id] = { seconds: NaN, change, skipped: why };
      log(`${state.size.toLocaleString('en-US')}: ${id} skipped: ${why}`);
      return;
    }
    let out: TaskOutcome;
    try {
      out = await runTask(node.base, name, params, o.taskLimitS);
    } catch (err) {
      out = { seconds: NaN, error: (err as Error).message };
    }
    sr.tasks[id] = { ...out, change };
    // It, and the runs of the same task after it, would only take longer at a larger size.
    if (out.timedOut) for (const later of TASK_ORDER.slice(TASK_ORDER.indexOf(id))) if (later.split('-')[0] === name) skip.set(later, `${id} over ${o.taskLimitS} s at ${state.size.toLocaleString('en-US')}`);
    log(`${state.size.toLocaleString('en-US')}: ${id}: ${out.timedOut ? `over the ${o.taskLimitS} s limit` : `${out.seconds.toFixed(2)} s`}${out.counts ? ` ${JSON.stringify(out.counts)}` : ''}${out.error ? ` ERROR ${out.error}` : ''}`);
    // A run still going would hold the storage lock and go on disturbing: stop here.
    if (out.timedOut) throw new TaskOverrun(id);
  };
  try {
    if (o.taskKinds.includes('gc')) {
      const garbage = await deleteFiles(node, state, onePercent);
      log(`${state.size.toLocaleString('en-US')}: deleted ${garbage} files (1 %); GC`);
      await task('gc-1pct', 'gc', {}, garbage);
      const fixed = await deleteFiles(node, state, FILES_PER_FOLDER);
      await task('gc-fixed', 'gc', {}, fixed);
    }
    if (!o.taskKinds.includes('backup')) return;
    await task('backup-full', 'backup', {}, state.size);
    const deploy = async (count: number, tag: string) => {
      await parallel(count, 4, async (k) => {
        const r = await call(`${node.base}/${GENERIC}/changes/${tag}/d${Math.floor(k / FILES_PER_FOLDER)}/f-${k}.bin`, 'PUT', Buffer.from(`change ${tag} ${k}\n`));
        if (r.status !== 201) throw new Error(`deploy of a change: HTTP ${r.status}`);
      });
      log(`${state.size.toLocaleString('en-US')}: deployed ${count} new files; backup`);
    };
    await deploy(onePercent, `c${state.size}`);
    await task('backup-incr', 'backup', o.backupParams, onePercent);
    await deploy(FILES_PER_FOLDER, `f${state.size}`);
    await task('backup-fixed', 'backup', o.backupParams, FILES_PER_FOLDER);
  } catch (err) {
    if (!(err instanceof TaskOverrun)) throw err;
    log(`${err.message}: the remaining tasks of this size are skipped`);
    for (const id of TASK_ORDER) sr.tasks[id] ??= { seconds: NaN, change: 0, skipped: err.message };
  }
}

class TaskOverrun extends Error {
  constructor(id: string) {
    super(`${id} overran its limit`);
  }
}

export async function runScale(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = options(argv);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const started = new Date();
  const { root, stopAll } = startBenchRun({ prefix: 'arca-bench-scale-', tmpdir: o.tmpdir, keepTmp: o.keepTmp, limitSeconds: 3 * 3600, log });
  const results: DialectResult[] = [];
  try {
    for (const dialect of o.dialects) {
      const sizes = o.sizes ?? [1_000, 100_000, 1_000_000].filter((s) => dialect === 'postgresql' || s <= MAX_SQLITE_DEFAULT);
      log(`${dialect}: sizes ${sizes.map((s) => s.toLocaleString('en-US')).join(', ')}`);
      results.push(await runDialect(dialect, sizes, o, root));
    }
  } finally {
    stopAll();
  }
  const header = `Arca scale benchmark, ${started.toISOString()} (${Math.round((Date.now() - started.getTime()) / 1000)} s); ${o.requests} sequential requests per operation (at most ${o.opBudgetMs / 1000} s each), Arca workers ${o.workers}`;
  process.stdout.write(`\n${header}\n\n${results.map(renderScaleTable).join('\n\n')}\n`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scale-latest.json'), `${JSON.stringify({ schema: 1, startedAt: started.toISOString(), options: o, results }, null, 2)}\n`);
  process.stdout.write(`written ${join(dir, 'scale-latest.json')}\n`);
  return results.some((r) => r.sizes.some((s) => Object.values(s.ops).some((x) => x.errors > 0) || Object.values(s.tasks).some((t) => t.error))) ? 1 : 0;
}
