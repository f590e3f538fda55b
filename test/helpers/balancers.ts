import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { freePort } from './ports.js';

/** Path of a binary on PATH or in the sbin directories, else undefined. */
function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

export const NGINX = findBinary('nginx');
export const HAPROXY = findBinary('haproxy');
export const NO_NGINX = NGINX ? '' : 'nginx is not installed (apt-get install nginx); the nginx tests are skipped';
export const NO_HAPROXY = HAPROXY ? '' : 'haproxy is not installed (apt-get install haproxy); the haproxy tests are skipped';

/** nginx 1.19.5+ takes `-e` for the start-up error log (else it opens its compiled-in path). */
function nginxErrorLogFlag(): string[] {
  if (!NGINX) return [];
  const v = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr ?? '');
  if (!v) return [];
  const [maj, min, pat] = v.slice(1).map(Number);
  return maj > 1 || min > 19 || (min === 19 && pat >= 5) ? ['-e', 'stderr'] : [];
}

/** `nginx -t` of a configuration file with its own prefix directory. */
export function nginxTest(prefix: string, file: string): { ok: boolean; output: string } {
  const r = spawnSync(NGINX!, ['-t', '-p', prefix, '-c', file, ...nginxErrorLogFlag()], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

export function haproxyCheck(file: string): { ok: boolean; output: string } {
  const r = spawnSync(HAPROXY!, ['-c', '-f', file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

export interface Balancer {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function waitListening(port: number, child: ChildProcess, out: () => string, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${out()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not listen on ${port} within 10 s:\n${out()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(bin: string, args: string[], port: number, what: string): Promise<Balancer> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const balancer: Balancer = {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  return waitListening(port, child, () => out, what).then(() => balancer);
}

/** Runs nginx in the foreground on a generated configuration (its paths relative to `prefix`). */
export function startNginx(prefix: string, file: string, port: number): Promise<Balancer> {
  return run(NGINX!, ['-p', prefix, '-c', file, '-g', 'daemon off;', ...nginxErrorLogFlag()], port, 'nginx');
}

/** Runs haproxy in the foreground (-db) on a generated configuration. */
export function startHaproxy(file: string, port: number): Promise<Balancer> {
  return run(HAPROXY!, ['-db', '-f', file], port, 'haproxy');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `count` consecutive ports free on 127.0.0.1 right now; returns the first. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    if (first + count > 65535) continue;
    let ok = true;
    for (let p = first + 1; p < first + count && ok; p++) ok = await portFree(p);
    if (ok) return first;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
