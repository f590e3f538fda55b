/** Starting, probing and stopping a real `arca start` process for the benchmark. */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { basicAuth, request } from './http.js';
import { sleep, startDaemon, tail, type Daemon } from './proc.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const ARCA_BIN = join(REPO_ROOT, 'bin', 'arca.js');
export const ARCA_ENTRY = join(REPO_ROOT, 'dist', 'arca.mjs');

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'bench-admin-password';
export const AUTH = basicAuth(ADMIN_USER, ADMIN_PASSWORD);

export interface ArcaStartOptions {
  home: string;
  port: number;
  /** Passed as --workers; undefined keeps Arca's default (one per CPU). */
  workers?: number;
  logFile: string;
  /** Extra node options before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  timeoutMs?: number;
}

export interface ArcaNode {
  url: string;
  base: string;
  home: string;
  pid: number;
  daemon: Daemon;
  /** Milliseconds from spawn() to the first ping that answered 200 OK. */
  msToPing: number;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** The environment Arca gets: ours without ARCA_* and JF_* overrides, plus the admin password. */
function arcaEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(ARCA|JF)_/.test(k)) env[k] = v;
  env.ARCA_ADMIN_PASSWORD = ADMIN_PASSWORD;
  return env;
}

/** Spawns `arca start` and polls ping every 10 ms until it answers OK. */
export async function startArca(o: ArcaStartOptions): Promise<ArcaNode> {
  const args = [...(o.nodeArgs ?? []), ARCA_BIN, 'start', '--home', o.home, '--port', String(o.port), '--host', '127.0.0.1'];
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  const fd = openSync(o.logFile, 'a');
  const started = performance.now();
  const daemon = startDaemon(process.execPath, args, { env: arcaEnv(), logFd: fd, cwd: REPO_ROOT });
  closeSync(fd);
  const url = `http://127.0.0.1:${o.port}`;
  const logTail = (lines = 30) => (existsSync(o.logFile) ? tail(readFileSync(o.logFile, 'utf8'), lines) : '');
  const deadline = started + (o.timeoutMs ?? 30_000);
  let msToPing: number;
  for (;;) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
      await daemon.stop();
      throw new Error(`arca exited with ${daemon.child.exitCode ?? daemon.child.signalCode} before answering ping:\n${logTail()}`);
    }
    const r = await request(`${url}/artifactory/api/system/ping`, { timeoutMs: 1_000 }).catch(() => undefined);
    if (r?.status === 200 && r.body.toString().trim() === 'OK') {
      msToPing = performance.now() - started;
      break;
    }
    if (performance.now() > deadline) {
      await daemon.stop();
      throw new Error(`arca did not answer ping within ${Math.round((o.timeoutMs ?? 30_000) / 1000)} s:\n${logTail()}`);
    }
    await sleep(10);
  }
  return {
    url,
    base: `${url}/artifactory`,
    home: o.home,
    pid: daemon.pid,
    daemon,
    msToPing,
    logTail,
    stop: () => daemon.stop('SIGTERM', 15_000),
  };
}

async function expectStatus(what: string, p: Promise<{ status: number; body: Buffer }>, ok: number[]): Promise<Buffer> {
  const r = await p;
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body.toString().slice(0, 500)}`);
  return r.body;
}

export async function createLocalRepo(node: ArcaNode, key: string): Promise<void> {
  await expectStatus(
    `create repository ${key}`,
    request(`${node.base}/api/repositories/${key}`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
    }),
    [200, 201],
  );
}

export async function deploySmall(node: ArcaNode, path: string, data: Buffer): Promise<void> {
  await expectStatus(
    `deploy ${path}`,
    request(`${node.base}/${path}`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
      timeoutMs: 30_000,
    }),
    [201],
  );
}
