/**
 * Does a big listing stall the node? (issue 14, item 1)
 *
 *   node --import tsx scripts/listing-stall.ts [--items 100000] [--seconds 10] [--rounds 1] [--arca DIR]
 *
 * Starts `arca start` (one worker, SQLite) from the checkout DIR (default: this one; it must
 * be built), deploys one 4 KiB artifact, bulk-loads `--items` items straight into the database
 * (one transaction), then runs wrk GETs of that artifact for `--seconds`: first alone, then while
 * another client lists the whole repository (`?list&deep=1&listFolders=1` of the root) back to
 * back, reading every byte. Prints GET throughput and latency for both runs and the listings'
 * durations, and (on Linux) the CPU the node's threads used meanwhile. With `--rounds N` the two
 * runs are repeated N times on the same data (the machine's noise shows in the spread).
 * Everything runs on 127.0.0.1 in a temp dir and is stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checksumsOf } from '../src/core/digests.js';
import { openSqlite } from '../src/db/database.js';
import { bulkItems } from '../src/db/testing/bulk-items.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ITEMS = Number(opt('items', '100000'));
const SECONDS = Number(opt('seconds', '10'));
const ROUNDS = Number(opt('rounds', '1'));
const ARCA = resolve(opt('arca', resolve(import.meta.dirname, '..')));
const PASSWORD = 'stall-Passw0rd!';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const REPO = 'stall-local';

const log = (m: string) => process.stderr.write(`[listing-stall] ${m}\n`);

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function call(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { authorization: AUTH, ...(init.headers ?? {}) } });
}

interface Wrk {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: string;
}

const UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000 };
/** Runs wrk without blocking this process's event loop (the lister shares it). */
async function wrk(url: string): Promise<Wrk> {
  const child = spawn('wrk', ['-t1', '-c8', `-d${SECONDS}s`, '--latency', '-H', `Authorization: ${AUTH}`, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise((r) => child.once('exit', r));
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) * UNIT[m[2]] : NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: ms(/^\s+50%\s+([\d.]+)(us|ms|s|m)/m),
    p99: ms(/^\s+99%\s+([\d.]+)(us|ms|s|m)/m),
    max: ms(/^\s+Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m)/m),
    errors: [/Socket errors:.*/.exec(out)?.[0], /Non-2xx.*/.exec(out)?.[0]].filter(Boolean).join('; '),
  };
}

/**
 * CPU time (ms) of each thread of the node's processes (with one worker, the process started
 * serves itself; Linux: /proc, schedstat's run time in ns), keyed `pid/tid`, with each
 * thread's nice value; empty elsewhere.
 */
function threadCpu(started: number): Map<string, { ms: number; nice: number; main: boolean }> {
  const out = new Map<string, { ms: number; nice: number; main: boolean }>();
  const childrenFile = `/proc/${started}/task/${started}/children`;
  if (!existsSync(childrenFile)) return out;
  for (const pid of [String(started), ...readFileSync(childrenFile, 'utf8').trim().split(/\s+/).filter(Boolean)]) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const ms = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        out.set(`${pid}/${tid}`, { ms, nice, main: pid === tid });
      } catch {
        // the thread ended
      }
    }
  }
  return out;
}

/** CPU used between two `threadCpu` samples: the processes' main threads, reniced threads, and the rest. */
function cpuBetween(a: ReturnType<typeof threadCpu>, b: ReturnType<typeof threadCpu>): string {
  let main = 0;
  let reniced = 0;
  let other = 0;
  for (const [k, v] of b) {
    const used = v.ms - (a.get(k)?.ms ?? 0);
    if (v.main) main += used;
    else if (v.nice > 0) reniced += used;
    else other += used;
  }
  return `node CPU: main threads ${(main / 1000).toFixed(2)} s, reniced threads ${(reniced / 1000).toFixed(2)} s, other threads ${(other / 1000).toFixed(2)} s`;
}

/** Lists the repository root deep, back to back, until stopped; returns each listing's duration and size. */
function lister(url: string): { stop(): Promise<Array<{ ms: number; bytes: number }>> } {
  const runs: Array<{ ms: number; bytes: number }> = [];
  let stopping = false;
  const one = () =>
    new Promise<void>((res, rej) => {
      const t = performance.now();
      let bytes = 0;
      httpGet(url, { headers: { authorization: AUTH } }, (r) => {
        r.on('data', (c: Buffer) => (bytes += c.length));
        r.on('end', () => {
          runs.push({ ms: performance.now() - t, bytes });
          res();
        });
        r.on('error', rej);
      }).on('error', rej);
    });
  const loop = (async () => {
    while (!stopping) await one();
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return runs;
    },
  };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'arca-listing-stall-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/artifactory`;
  const child: ChildProcess = spawn(process.execPath, [join(ARCA, 'bin', 'arca.js'), 'start', '--home', home, '--port', String(port), '--host', '127.0.0.1', '--workers', '1'], {
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARCA_'))), ARCA_ADMIN_PASSWORD: PASSWORD },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/api/system/ping`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 300) throw new Error('arca did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`arca from ${ARCA} on port ${port}, home ${home}`);
    if (!(await call(`${base}/api/repositories/${REPO}`, { method: 'PUT', body: JSON.stringify({ rclass: 'local', packageType: 'generic' }), headers: { 'content-type': 'application/json' } })).ok) {
      throw new Error('cannot create the repository');
    }
    const payload = randomBytes(4096);
    if (!(await call(`${base}/${REPO}/one/file.bin`, { method: 'PUT', body: payload })).ok) throw new Error('cannot deploy');
    const sums = checksumsOf(payload);
    const db = openSqlite(join(home, 'data', 'arca.db'));
    let t = performance.now();
    await bulkItems(db.db, REPO, ITEMS, { sha1: sums.sha1, sha256: sums.sha256, md5: sums.md5, size: payload.length });
    await db.close();
    log(`${ITEMS} items loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const getUrl = `${base}/${REPO}/one/file.bin`;
    const listUrl = `${base}/api/storage/${REPO}?list&deep=1&listFolders=1`;
    t = performance.now();
    const lone0 = threadCpu(child.pid!);
    const first = lister(listUrl);
    await new Promise((r) => setTimeout(r, 10));
    const warm = await first.stop();
    const lone1 = threadCpu(child.pid!);
    // What one listing costs the event loop, in CPU time: the machine's load does not change it.
    console.log(`one listing alone: ${warm[0].ms.toFixed(0)} ms, ${(warm[0].bytes / 1e6).toFixed(1)} MB${lone1.size > 0 ? `; ${cpuBetween(lone0, lone1)}` : ''}`);

    await wrk(getUrl); // warm-up
    const f = (n: number) => n.toFixed(1);
    console.log(`GET ${getUrl.replace(base, '')} with wrk -t1 -c8 -d${SECONDS}s, ${ITEMS} items, SQLite, one worker, ${ROUNDS} round(s)`);
    const kept: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const alone = await wrk(getUrl);
      const l = lister(listUrl);
      await new Promise((r) => setTimeout(r, 200)); // the first listing is under way
      const cpu0 = threadCpu(child.pid!);
      const busy = await wrk(getUrl);
      const cpu1 = threadCpu(child.pid!);
      const runs = await l.stop();
      const avg = runs.reduce((s, r) => s + r.ms, 0) / runs.length;
      kept.push((100 * busy.rps) / alone.rps);
      if (ROUNDS > 1) console.log(`round ${round} (load average ${loadavg()[0].toFixed(1)})`);
      console.log(`  alone:                 ${f(alone.rps)} req/s, p50 ${f(alone.p50)} ms, p99 ${f(alone.p99)} ms, max ${f(alone.max)} ms ${alone.errors}`);
      console.log(`  while listing the root: ${f(busy.rps)} req/s, p50 ${f(busy.p50)} ms, p99 ${f(busy.p99)} ms, max ${f(busy.max)} ms ${busy.errors}`);
      console.log(`  throughput kept: ${f(kept[kept.length - 1])} %; listings meanwhile: ${runs.length}, avg ${f(avg)} ms, ${(runs[0]?.bytes / 1e6).toFixed(1)} MB each`);
      if (cpu1.size > 0) console.log(`  while listing, ${cpuBetween(cpu0, cpu1)}`);
    }
    if (ROUNDS > 1) console.log(`throughput kept over ${ROUNDS} rounds: ${kept.map(f).join(', ')} % (median ${f([...kept].sort((a, b) => a - b)[Math.floor(kept.length / 2)])} %)`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
