/**
 * The `--scale` bench's HTTP side: timed requests on one keep-alive connection (latency
 * samples, sequential), and cluster tasks (GC, backup) run through the node's REST API and
 * timed from the run's own start and end.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { AUTH } from '../lib/arca.js';
import { sleep } from '../lib/proc.js';

export interface Reply {
  status: number;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export function call(url: string, method = 'GET', body?: Buffer | string, headers: Record<string, string> = {}, timeoutMs = 120_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { authorization: AUTH, ...headers };
    if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body));
    const req = http.request(url, { method, headers: h, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function closeConnections(): void {
  agent.destroy();
}

export interface Samples {
  /** Milliseconds, in the order taken. */
  ms: number[];
  errors: number;
  firstError?: string;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Runs `request(k)` for k = 0..n-1, one after the other, and times each; stops early once
 * `budgetMs` has passed (at least 5 samples). `check` says what is wrong with an answer.
 */
export async function sample(n: number, budgetMs: number, request: (k: number) => Promise<Reply>, check: (r: Reply, k: number) => string | undefined): Promise<Samples> {
  const out: Samples = { ms: [], errors: 0 };
  const start = performance.now();
  for (let k = 0; k < n; k++) {
    if (k >= 5 && performance.now() - start > budgetMs) break;
    const t = performance.now();
    let problem: string | undefined;
    try {
      const r = await request(k);
      out.ms.push(performance.now() - t);
      problem = check(r, k);
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem) {
      out.errors++;
      out.firstError ??= problem;
    }
  }
  return out;
}

/** Runs `work(k)` for k = 0..n-1 on `concurrency` parallel lanes; throws on the first failure. */
export async function parallel(n: number, concurrency: number, work: (k: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

export interface TaskOutcome {
  seconds: number;
  counts?: Record<string, number>;
  timedOut?: boolean;
  error?: string;
}

/**
 * Requests a cluster task run (`POST /api/system/tasks/{name}/run`) and polls it until it
 * ends or `limitS` passes; the duration is the run's own `startedAt` → `endedAt`.
 */
export async function runTask(base: string, name: string, params: unknown, limitS: number): Promise<TaskOutcome> {
  const t0 = performance.now();
  const r = await call(`${base}/api/system/tasks/${name}/run?wait=0`, 'POST', JSON.stringify(params ?? {}), { 'content-type': 'application/json' });
  if (r.status !== 200 && r.status !== 202) throw new Error(`request ${name}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
  let run = JSON.parse(r.body.toString()) as { id: string; status: string; startedAt: string | null; endedAt: string | null; counts: Record<string, number> | null; error: string | null };
  while (!['SUCCEEDED', 'FAILED', 'ABANDONED'].includes(run.status)) {
    if (performance.now() - t0 > limitS * 1000) return { seconds: (performance.now() - t0) / 1000, timedOut: true };
    await sleep(100);
    const p = await call(`${base}/api/system/tasks/runs/${run.id}`);
    if (p.status !== 200) throw new Error(`poll ${name} run ${run.id}: HTTP ${p.status}`);
    run = JSON.parse(p.body.toString());
  }
  const seconds = run.startedAt && run.endedAt ? (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000 : (performance.now() - t0) / 1000;
  if (run.status !== 'SUCCEEDED') return { seconds, error: `${name} run ${run.id} ${run.status}: ${run.error ?? ''}` };
  return { seconds, counts: run.counts ?? undefined };
}
