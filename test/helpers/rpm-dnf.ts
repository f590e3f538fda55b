import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** True when dnf, createrepo_c, rpmsign and gpg are installed (Debian: dnf createrepo-c rpm gnupg). */
export function hasDnfTools(): string | undefined {
  for (const bin of ['/usr/bin/dnf', '/usr/bin/createrepo_c', '/usr/bin/rpmbuild', '/usr/bin/rpmsign', '/usr/bin/gpg']) {
    if (!existsSync(bin)) return `${bin} is not installed`;
  }
  return undefined;
}

/** A throwaway GnuPG home with one signing key (packages are signed with rpmsign, createrepo_c's repomd.xml with gpg). */
export function packagerKey(dir: string): { home: string; uid: string; publicKey: string } {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const uid = 'Arca Test Packager <packager@example.com>';
  execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'rsa2048', 'sign', 'never'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
  const publicKey = execFileSync('gpg', ['--armor', '--export', 'packager@example.com'], { env: { ...process.env, GNUPGHOME: home } }).toString();
  writeFileSync(join(dir, 'packager.asc'), publicKey);
  return { home, uid, publicKey };
}

/** Signs packages in place with rpmsign and the packager key. */
export function signRpms(home: string, files: string[]): void {
  execFileSync('rpmsign', ['--define', '_gpg_name packager@example.com', '--define', '__gpg /usr/bin/gpg', '--define', `_gpg_path ${home}`, '--addsign', ...files], {
    env: { ...process.env, GNUPGHOME: home },
    stdio: 'pipe',
  });
}

/** An armored detached signature of a file by the packager key (`repomd.xml.asc`). */
export function gpgDetachSign(home: string, file: string): void {
  execFileSync('gpg', ['--batch', '--yes', '--armor', '--detach-sign', '-o', `${file}.asc`, file], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
}

/** Serves a folder's files on 127.0.0.1 (a static mirror for a remote repository). */
export async function staticServer(root: string): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0])).replace(/^(\.\.[/\\])+/, '');
    requests.push(path);
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const data = readFileSync(file);
    res.writeHead(200, { 'content-length': data.length });
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, server, requests };
}

export interface DnfRepo {
  id: string;
  baseurl: string;
  gpgkeys: string[];
  gpgcheck: boolean;
  repoGpgcheck: boolean;
  username?: string;
  password?: string;
}

/** A dnf with its own configuration, repository folder, cache and install root under `dir`. */
export class Dnf {
  readonly root: string;
  private readonly conf: string;
  private readonly reposdir: string;

  constructor(dir: string) {
    this.root = join(dir, 'root');
    this.reposdir = join(dir, 'repos.d');
    this.conf = join(dir, 'dnf.conf');
    mkdirSync(this.root, { recursive: true });
    mkdirSync(this.reposdir, { recursive: true });
    writeFileSync(
      this.conf,
      [
        '[main]',
        'gpgcheck=1',
        'installonly_limit=3',
        'skip_if_unavailable=False',
        'metadata_expire=0',
        `cachedir=${join(dir, 'cache')}`,
        `logdir=${join(dir, 'log')}`,
        `persistdir=${join(dir, 'persist')}`,
        '',
      ].join('\n'),
    );
  }

  /** Writes `{id}.repo` in the temporary reposdir. */
  repo(r: DnfRepo): string {
    const text = [
      `[${r.id}]`,
      `name=${r.id}`,
      `baseurl=${r.baseurl}`,
      'enabled=1',
      `gpgcheck=${r.gpgcheck ? 1 : 0}`,
      `repo_gpgcheck=${r.repoGpgcheck ? 1 : 0}`,
      ...(r.gpgkeys.length ? [`gpgkey=${r.gpgkeys.join(' ')}`] : []),
      ...(r.username ? [`username=${r.username}`, `password=${r.password}`] : []),
      '',
    ].join('\n');
    writeFileSync(join(this.reposdir, `${r.id}.repo`), text);
    return text;
  }

  /** Runs dnf with this configuration; resolves with its output, rejects with it on failure. */
  async run(args: string[]): Promise<string> {
    const all = ['-y', '--config', this.conf, `--setopt=reposdir=${this.reposdir}`, '--releasever', '12', '--installroot', this.root, '--setopt=install_weak_deps=False', ...args];
    try {
      const { stdout, stderr } = await execFileAsync('dnf', all, { maxBuffer: 16 * 1024 * 1024, timeout: 180_000 });
      return `${stdout}\n${stderr}`;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`dnf ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  }
}
