/**
 * Row (a) of `npm run bench` — a 4 KiB authenticated GET at 64 connections (wrk) — on any
 * dialect, against one or more builds of Arca side by side, in alternating rounds, so a change
 * and its baseline are measured in the same sitting on a shared machine.
 *
 *   node --import tsx scripts/bench-get.ts --dialect postgresql --tree /work/wt-base --tree .
 *
 * Each `--tree` is a checkout with `npm run build` done (its bin/arca.js runs its dist/). Every
 * tree gets a fresh home (and on PostgreSQL/MySQL a throwaway database), a generic local
 * repository with the 4 KiB file, and `--rounds` runs of wrk (after one warm-up run), in turn
 * A, B, B, A, A, B…; the totals are compared. CPU per request is the servers' own CPU time over
 * wrk's request count, which other load disturbs less than the rate.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { AUTH, ADMIN_PASSWORD } from '../bench/lib/arca.js';
import { freePort, request } from '../bench/lib/http.js';
import { killEverythingSync, sleep, startDaemon, which, type Daemon } from '../bench/lib/proc.js';
import { processTree } from '../bench/lib/rss.js';
import { runWrk, wrkProblem } from '../bench/lib/wrk.js';

const USAGE = `Usage: node --import tsx scripts/bench-get.ts [options]

  --tree DIR        an Arca checkout, built (repeat to compare; default: this checkout)
  --dialect D       sqlite, postgresql or mysql (default postgresql)
  --pg-url URL      PostgreSQL server for the throwaway databases (default postgres://postgres@127.0.0.1:5432/postgres)
  --mysql-url URL   MySQL/MariaDB server (default mysql://root@127.0.0.1:3306/mysql)
  --workers N       arca start --workers N (default 2)
  --rounds N        measured wrk runs per tree (default 4)
  --duration S      seconds per wrk run (default 5)
  --connections N   wrk connections (default 64)
`;

const PATH = '/artifactory/bench-local/small/blob-4k.bin';

function options() {
  const { values: v } = parseArgs({
    options: {
      tree: { type: 'string', multiple: true },
      dialect: { type: 'string', default: 'postgresql' },
      'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/mysql' },
      workers: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '64' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    return n;
  };
  if (!['sqlite', 'postgresql', 'mysql'].includes(v.dialect!)) throw new Error('--dialect must be sqlite, postgresql or mysql');
  return {
    trees: (v.tree ?? [resolve(import.meta.dirname, '..')]).map((t) => resolve(t)),
    dialect: v.dialect as 'sqlite' | 'postgresql' | 'mysql',
    pgUrl: v['pg-url']!,
    mysqlUrl: v['mysql-url']!,
    workers: int('workers', v.workers!, 1, 64),
    rounds: int('rounds', v.rounds!, 1, 50),
    durationS: int('duration', v.duration!, 1, 120),
    connections: int('connections', v.connections!, 1, 1024),
  };
}

interface Server {
  tree: string;
  url: string;
  daemon: Daemon;
  dbName: string;
  drop(): Promise<void>;
}

/** A throwaway database and the db.properties that names it; none on SQLite. */
async function database(o: ReturnType<typeof options>, home: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `arca_get_${randomBytes(5).toString('hex')}`;
  if (o.dialect === 'postgresql') {
    const admin = new pg.Client({ connectionString: o.pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(o.pgUrl);
    const props = [`type=postgresql`, `url=jdbc:postgresql://${u.hostname}:${u.port || 5432}/${name}`, u.username ? `username=${decodeURIComponent(u.username)}` : ''];
    writeFileSync(join(home, 'etc', 'db.properties'), `${props.join('\n')}\n`);
    return { name, drop: async () => {
      const c = new pg.Client({ connectionString: o.pgUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    } };
  }
  if (o.dialect === 'mysql') {
    const mysql = await import('mysql2/promise');
    const admin = await mysql.createConnection({ uri: o.mysqlUrl });
    await admin.query(`create database ${name} character set utf8mb4 collate utf8mb4_bin`);
    await admin.end();
    const u = new URL(o.mysqlUrl);
    const props = [`type=mysql`, `url=jdbc:mysql://${u.hostname}:${u.port || 3306}/${name}`, u.username ? `username=${decodeURIComponent(u.username)}` : ''];
    writeFileSync(join(home, 'etc', 'db.properties'), `${props.join('\n')}\n`);
    return { name, drop: async () => {
      const c = await mysql.createConnection({ uri: o.mysqlUrl });
      await c.query(`drop database if exists ${name}`);
      await c.end();
    } };
  }
  return { name: '', drop: async () => {} };
}

async function start(o: ReturnType<typeof options>, tree: string, root: string, k: number): Promise<Server> {
  const home = join(root, `home-${k}`);
  mkdirSync(join(home, 'etc'), { recursive: true });
  writeFileSync(join(home, 'etc', 'system.yaml'), 'arca:\n  logLevel: warn\n');
  const { name: dbName, drop } = await database(o, home);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [key, val] of Object.entries(process.env)) if (!/^(ARCA|JF)_/.test(key)) env[key] = val;
  env.ARCA_ADMIN_PASSWORD = ADMIN_PASSWORD;
  const fd = openSync(join(root, `arca-${k}.log`), 'a');
  const daemon = startDaemon(process.execPath, [join(tree, 'bin', 'arca.js'), 'start', '--home', home, '--port', String(port), '--host', '127.0.0.1', '--workers', String(o.workers)], { env, logFd: fd, cwd: tree });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 120_000;
  for (;;) {
    const r = await request(`${url}/artifactory/api/system/ping`, { timeoutMs: 1000 }).catch(() => undefined);
    if (r?.status === 200) break;
    if (Date.now() > until || daemon.child.exitCode !== null) throw new Error(`${tree}: Arca did not start:\n${readFileSync(join(root, `arca-${k}.log`), 'utf8').slice(-2000)}`);
    await sleep(50);
  }
  const put = async (path: string, body: Buffer | string, headers: Record<string, string> = {}) => {
    const r = await request(`${url}${path}`, { method: 'PUT', headers: { authorization: AUTH, ...headers }, body, timeoutMs: 30_000 });
    if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${path}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
  };
  await put('/artifactory/api/repositories/bench-local', JSON.stringify({ rclass: 'local', packageType: 'generic' }), { 'content-type': 'application/json' });
  const small = randomBytes(4096);
  await put(PATH, small, { 'content-type': 'application/octet-stream' });
  const got = await request(`${url}${PATH}`, { headers: { authorization: AUTH } });
  if (got.status !== 200 || !got.body.equals(small)) throw new Error(`${tree}: the 4 KiB file did not come back (HTTP ${got.status})`);
  return { tree, url, daemon, dbName, drop };
}

/** CPU seconds (user + system) of a process and everything below it, from /proc. */
function treeCpu(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

/**
 * PostgreSQL: CPU seconds of the server processes connected to this server's database (its
 * pool's backends), from /proc (the server runs on this machine). A backend that ended
 * meanwhile is lost, so read before and after a run on a warm pool.
 */
async function backendCpu(admin: pg.Client | undefined, s: Server): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (!admin) return out;
  const r = await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [s.dbName]);
  for (const { pid } of r.rows) out.set(pid, treeCpu(pid));
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

async function main(): Promise<number> {
  const o = options();
  const wrk = which('wrk');
  if (!wrk) throw new Error("wrk is missing: apt-get install wrk");
  const root = mkdtempSync(join(tmpdir(), 'arca-bench-get-'));
  const servers: Server[] = [];
  process.on('exit', () => killEverythingSync());
  // One connection for the whole run, opened first (a busy shared server may refuse more later).
  let admin: pg.Client | undefined;
  if (o.dialect === 'postgresql') {
    admin = new pg.Client({ connectionString: o.pgUrl });
    await admin.connect();
  }
  try {
    for (const [k, tree] of o.trees.entries()) servers.push(await start(o, tree, root, k));
    const totals = servers.map(() => ({ requests: 0, seconds: 0, cpu: 0, dbCpu: 0, bad: 0, rates: [] as number[], p99: [] as number[] }));
    const runOne = async (k: number, durationS: number) => {
      const s = servers[k];
      const before = treeCpu(s.daemon.pid);
      const pgBefore = await backendCpu(admin, s);
      const r = await runWrk({ wrk, url: `${s.url}${PATH}`, headers: { Authorization: AUTH }, threads: 2, connections: o.connections, durationS });
      const cpu = treeCpu(s.daemon.pid) - before;
      const dbCpu = cpuDelta(pgBefore, await backendCpu(admin, s));
      // Reported with the round, not fatal: a loaded machine makes a slow build time out now and then.
      const problem = wrkProblem(r);
      if (problem) process.stderr.write(`wrk against ${s.tree}: ${problem}\n`);
      if (!(r.requests > 0)) throw new Error(`wrk against ${s.tree}: no request completed`);
      return { r, cpu, dbCpu };
    };
    for (let k = 0; k < servers.length; k++) await runOne(k, 2);
    for (let round = 0; round < o.rounds; round++) {
      // A B, B A, A B…: neither build always goes first.
      const order = servers.map((_, k) => k);
      if (round % 2 === 1) order.reverse();
      for (const k of order) {
        const { r, cpu, dbCpu } = await runOne(k, o.durationS);
        const t = totals[k];
        t.requests += r.requests;
        t.seconds += r.durationS;
        t.cpu += cpu;
        t.dbCpu += dbCpu;
        t.bad += r.non2xx3xx;
        t.rates.push(r.requestsPerSec);
        t.p99.push(r.latency.p99 ?? NaN);
        process.stderr.write(`round ${round + 1} ${servers[k].tree}: ${Math.round(r.requestsPerSec)} req/s, p50 ${r.latency.p50?.toFixed(2)} ms, p99 ${r.latency.p99?.toFixed(2)} ms, ${((cpu / r.requests) * 1e6).toFixed(0)} µs Arca CPU/request, ${((dbCpu / r.requests) * 1e6).toFixed(0)} µs database backends\n`);
      }
    }
    process.stdout.write(`\n4 KiB GET, wrk -t2 -c${o.connections} -d${o.durationS}s × ${o.rounds} rounds, ${o.dialect}, ${o.workers} workers, ${new Date().toISOString()}\n\n`);
    process.stdout.write('| tree | req/s (total) | rounds min–max | p99 per round (ms) | Arca CPU µs/request | PostgreSQL backends CPU µs/request | non-2xx |\n|---|---|---|---|---|---|---|\n');
    for (const [k, t] of totals.entries()) {
      process.stdout.write(
        `| ${servers[k].tree} | ${Math.round(t.requests / t.seconds)} | ${Math.round(Math.min(...t.rates))}–${Math.round(Math.max(...t.rates))} | ${t.p99.map((x) => x.toFixed(1)).join(', ')} | ${((t.cpu / t.requests) * 1e6).toFixed(0)} | ${o.dialect === 'postgresql' ? ((t.dbCpu / t.requests) * 1e6).toFixed(0) : '—'} | ${t.bad} |\n`,
      );
    }
    return 0;
  } finally {
    for (const s of servers) {
      await s.daemon.stop();
      await s.drop().catch(() => undefined);
    }
    await admin?.end();
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench-get: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
