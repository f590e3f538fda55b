import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/**
 * A Debian repository published the ordinary way: `reprepro` signs its Release with a gpg key
 * made for the test (its own GNUPGHOME), and a small static HTTP server on 127.0.0.1 serves the
 * published tree, as a mirror would.
 */

export const REPREPRO = '/usr/bin/reprepro';
export const GPG = '/usr/bin/gpg';
export const HAVE_REPREPRO = existsSync(REPREPRO) && existsSync(GPG);

export class GpgHome {
  readonly fingerprint: string;

  constructor(readonly dir: string, name = 'Arca Test Mirror') {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.gpg(['--batch', '--passphrase', '', '--quick-gen-key', `${name} <mirror@example.org>`, 'rsa2048', 'sign', 'never']);
    const colons = this.gpg(['--batch', '--with-colons', '--list-secret-keys']).toString();
    this.fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1];
  }

  gpg(args: string[], input?: Buffer): Buffer {
    return execFileSync(GPG, ['--homedir', this.dir, ...args], { input, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  }

  publicKey(): string {
    return this.gpg(['--armor', '--export', this.fingerprint]).toString();
  }
}

/** A reprepro repository under `dir` whose distributions are signed with `gpg`'s key. */
export class RepreproRepo {
  constructor(
    readonly dir: string,
    readonly gpg: GpgHome,
    dists: Array<{ codename: string; components: string[]; architectures: string[] }>,
  ) {
    mkdirSync(join(dir, 'conf'), { recursive: true });
    const conf = dists
      .map((d) => [`Origin: arca-test-mirror`, `Label: arca-test-mirror`, `Codename: ${d.codename}`, `Architectures: ${d.architectures.join(' ')}`, `Components: ${d.components.join(' ')}`, `SignWith: ${gpg.fingerprint}`].join('\n'))
      .join('\n\n');
    writeFileSync(join(dir, 'conf', 'distributions'), `${conf}\n`);
  }

  private reprepro(args: string[]): void {
    execFileSync(REPREPRO, ['-b', this.dir, '--silent', ...args], { env: { ...process.env, GNUPGHOME: this.gpg.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  include(codename: string, debPath: string, component = 'main'): void {
    this.reprepro(['-C', component, 'includedeb', codename, debPath]);
  }

  remove(codename: string, pkg: string): void {
    this.reprepro(['remove', codename, pkg]);
  }
}

/** Serves `root` read-only on 127.0.0.1; counts requests per path. */
export async function serveStatic(root: string): Promise<{ url: string; server: Server; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const st = statSync(file);
    res.writeHead(200, { 'content-length': String(st.size), 'last-modified': st.mtime.toUTCString() });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}
