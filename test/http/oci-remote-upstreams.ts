/**
 * Upstream registries for the remote-repository tests: the CNCF registry (the Debian
 * `docker-registry` binary) in a temp dir, a recording HTTP proxy in front of any upstream
 * (which requests arrived, with which kind of credentials; and a switch that makes it drop
 * connections, as a dead upstream), and an OCI test target over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import type { OciTarget } from './oci-client.js';

export const DOCKER_REGISTRY = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry'].find((p) => existsSync(p));

export interface RegistryProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the CNCF registry (filesystem storage in a temp dir, deletes enabled) on a free port. */
export async function startDockerRegistry(binary = DOCKER_REGISTRY): Promise<RegistryProcess> {
  if (!binary) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
  const dir = mkdtempSync(join(tmpdir(), 'arca-docker-registry-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${url}/v2/`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child, output: () => out, stop };
}

export interface Recorded {
  method: string;
  path: string;
  /** The scheme of the Authorization header ('none' without one). */
  auth: 'none' | 'basic' | 'bearer' | 'other';
  status: number;
}

/** An HTTP proxy to `target` that records every request; `down` makes it drop connections. */
export class RecordingProxy {
  readonly log: Recorded[] = [];
  down = false;
  url = '';
  private server!: Server;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const t = new URL(this.target);
    this.server = createServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      const a = (req.headers.authorization ?? '').split(' ')[0].toLowerCase();
      const entry: Recorded = { method: req.method ?? 'GET', path: req.url ?? '/', auth: a === '' ? 'none' : a === 'basic' || a === 'bearer' ? a : 'other', status: 0 };
      this.log.push(entry);
      const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        entry.status = upRes.statusCode ?? 0;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** Recorded requests whose path (without the query) ends with `suffix`, optionally of one method. */
  count(suffix: string, method?: string): number {
    return this.log.filter((r) => r.path.split('?')[0].endsWith(suffix) && (method === undefined || r.method === method)).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** An OciTarget over real HTTP (`authorization` sent when given). */
export function httpTarget(base: string, repoKey: string, authorization?: string): OciTarget {
  return {
    repoKey,
    close: async () => undefined,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(authorization ? { authorization } : {}), ...(opts.headers ?? {}) };
      if (headers.authorization === '') delete headers.authorization;
      const res = await fetch(`${base}${path}`, { method, headers, body: opts.body, redirect: 'manual' });
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => (out[k] = v));
      return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
    },
  };
}

const sha256hex = async (data: Buffer) => (await import('node:crypto')).createHash('sha256').update(data).digest('hex');

/** Pushes to any registry over HTTP the way clients do (POST, then PUT to the Location it gives, absolute or not). */
export class HttpPusher {
  constructor(
    private readonly base: string,
    private readonly authorization?: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.authorization ? { authorization: this.authorization } : {}), ...extra };
  }

  async blob(name: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
    const buf = Buffer.from(data);
    const digest = `sha256:${await sha256hex(buf)}`;
    const start = await fetch(`${this.base}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: this.headers() });
    if (start.status !== 202) throw new Error(`POST upload to ${this.base}: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location')!, this.base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', headers: this.headers({ 'content-type': 'application/octet-stream' }), body: buf });
    if (put.status !== 201) throw new Error(`PUT upload to ${this.base}: ${put.status} ${await put.text()}`);
    return { digest, size: buf.length };
  }

  async manifest(name: string, reference: string, body: string, mediaType: string): Promise<string> {
    const res = await fetch(`${this.base}/v2/${name}/manifests/${reference}`, { method: 'PUT', headers: this.headers({ 'content-type': mediaType }), body });
    if (res.status !== 201) throw new Error(`PUT manifest to ${this.base}: ${res.status} ${await res.text()}`);
    return `sha256:${await sha256hex(Buffer.from(body))}`;
  }

  /** An OCI image of a config and the given layers; returns the manifest, its digest and the layers' digests. */
  async image(name: string, tag: string, layers: (Buffer | string)[], label = tag): Promise<{ manifest: string; digest: string; layers: string[]; config: string }> {
    const config = await this.blob(name, JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { label } } }));
    const ls = [];
    for (const l of layers) ls.push(await this.blob(name, l));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: ls.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    });
    const digest = await this.manifest(name, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
    return { manifest, digest, layers: ls.map((l) => l.digest), config: config.digest };
  }
}
