import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Debian packages and the apt client for tests: packages built by the real `dpkg-deb --build`
 * (control.tar.xz by default, as Debian 12 builds them), and `apt-get` run against a root of
 * its own (`-o Dir=…`), so nothing of the machine's apt state is read or changed.
 */

export const DPKG_DEB = '/usr/bin/dpkg-deb';
export const APT_GET = '/usr/bin/apt-get';
export const HAVE_APT = existsSync(DPKG_DEB) && existsSync(APT_GET);

export interface DebSpec {
  name: string;
  version: string;
  arch?: string;
  depends?: string;
  description?: string;
  /** Extra control fields. */
  fields?: Record<string, string>;
  /** Compression of the member tarballs (dpkg-deb -Z); xz by default. */
  compression?: 'xz' | 'gzip' | 'zstd' | 'none';
  /** A file the package installs, under /usr/share/{name}/ (its content). */
  payload?: string;
}

/** Builds a `.deb` with dpkg-deb in `dir`; returns its bytes and path. */
export function buildDeb(dir: string, spec: DebSpec): { path: string; data: Buffer } {
  const arch = spec.arch ?? 'amd64';
  const root = join(dir, `${spec.name}_${spec.version}_${arch}.root`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr', 'share', spec.name), { recursive: true });
  writeFileSync(join(root, 'usr', 'share', spec.name, 'hello.txt'), spec.payload ?? `${spec.name} ${spec.version}\n`);
  const fields: Record<string, string> = {
    Package: spec.name,
    Version: spec.version,
    Architecture: arch,
    Maintainer: 'Arca Tests <tests@example.org>',
    ...(spec.depends ? { Depends: spec.depends } : {}),
    Section: 'misc',
    Priority: 'optional',
    ...spec.fields,
    Description: spec.description ?? `test package ${spec.name}\n A package built by the Arca tests.`,
  };
  writeFileSync(join(root, 'DEBIAN', 'control'), `${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
  const out = join(dir, `${spec.name}_${spec.version.replace(/^\d+:/, '')}_${arch}.deb`);
  execFileSync(DPKG_DEB, ['--root-owner-group', '-Z', spec.compression ?? 'xz', '--build', root, out], { stdio: 'pipe' });
  return { path: out, data: readFileSync(out) };
}

export interface RunResult {
  code: number;
  out: string;
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 120_000, cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

/** An apt root of its own: sources.list, keyring, state and cache under `dir`. */
export class AptRoot {
  constructor(
    readonly dir: string,
    readonly arch = 'amd64',
  ) {
    for (const d of ['etc/apt/sources.list.d', 'etc/apt/preferences.d', 'etc/apt/apt.conf.d', 'etc/apt/trusted.gpg.d', 'keyrings', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg', 'log', 'instroot']) {
      mkdirSync(join(dir, d), { recursive: true });
    }
    writeFileSync(join(dir, 'var/lib/dpkg/status'), '');
  }

  /** Writes sources.list (one `deb …` line per entry) and the keyrings its signed-by names. */
  sources(lines: string[]): void {
    writeFileSync(join(this.dir, 'etc/apt/sources.list'), `${lines.join('\n')}\n`);
  }

  keyring(name: string, armored: string): string {
    const path = join(this.dir, 'keyrings', `${name}.asc`);
    writeFileSync(path, armored);
    return path;
  }

  options(): string[] {
    const d = this.dir;
    return [
      '-o', `Dir=${d}`,
      '-o', `Dir::Etc=${d}/etc/apt`,
      '-o', `Dir::Etc::sourcelist=${d}/etc/apt/sources.list`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::Etc::trustedparts=${d}/etc/apt/trusted.gpg.d`,
      '-o', `Dir::State=${d}/var/lib/apt`,
      '-o', `Dir::State::status=${d}/var/lib/dpkg/status`,
      '-o', `Dir::Cache=${d}/var/cache/apt`,
      '-o', `Dir::Log=${d}/log`,
      '-o', `APT::Architecture=${this.arch}`,
      '-o', `APT::Architectures::=${this.arch}`,
      '-o', 'Debug::NoLocking=1',
      '-o', 'Acquire::Languages=none',
      '-o', 'Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false',
      '-o', 'APT::Sandbox::User=root',
      '-o', 'Acquire::http::Proxy=DIRECT',
      '-o', 'Acquire::Retries=0',
    ];
  }

  apt(args: string[], timeoutMs = 120_000): Promise<RunResult> {
    return run(APT_GET, [...this.options(), '-q', '-y', ...args], { timeoutMs });
  }

  /** The .deb files apt downloaded (install --download-only). */
  archives(): string {
    return join(this.dir, 'var/cache/apt/archives');
  }
}
