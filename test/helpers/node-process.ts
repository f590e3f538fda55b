import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ADMIN_PASSWORD } from './credentials.js';
import { freePort } from './ports.js';

export { freePort };

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const ARCA_BIN = join(REPO_ROOT, 'bin', 'arca.js');

export interface NodeProcess {
  url: string;
  base: string;
  home: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  cleanup(): Promise<void>;
}

/** Starts `arca start` as a real process on a free port and waits for ping OK. */
export async function startNodeProcess(opts: { home?: string; workers?: number; env?: Record<string, string>; args?: string[] } = {}): Promise<NodeProcess> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'arca-proc-home-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [ARCA_BIN, 'start', '--home', home, '--port', String(port), '--host', '127.0.0.1', '--workers', String(opts.workers ?? 1), ...(opts.args ?? [])],
    { env: { ...process.env, ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`arca exited with ${child.exitCode} before it was up:\n${out}`);
    try {
      const res = await fetch(`${url}/artifactory/api/system/ping`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`arca did not answer ping within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    base: `${url}/artifactory`,
    home,
    port,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
    async cleanup() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}
