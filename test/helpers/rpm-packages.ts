import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A package to build with rpmbuild. */
export interface RpmSpec {
  name: string;
  version: string;
  release?: string;
  epoch?: number;
  arch?: string;
  requires?: string[];
  provides?: string[];
  summary?: string;
  /** Files installed (paths → content); one under /usr/share/{name} by default. */
  files?: Record<string, string>;
  /** Folders the package owns (`%dir`). */
  dirs?: string[];
  /** Ghost files (`%ghost`). */
  ghosts?: string[];
  changelog?: Array<{ author: string; text: string }>;
}

/** True when rpmbuild is installed (Debian's `rpm` package). */
export function hasRpmbuild(): boolean {
  return existsSync('/usr/bin/rpmbuild');
}

function specText(s: RpmSpec): string {
  const files = s.files ?? { [`/usr/share/${s.name}/${s.name}.txt`]: `${s.name} ${s.version}\n` };
  const install = Object.entries(files)
    .map(([path, content]) => `mkdir -p %{buildroot}${path.replace(/\/[^/]*$/, '')}\ncat > %{buildroot}${path} <<'ARCA_EOF'\n${content}ARCA_EOF\n`)
    .join('');
  const dirs = (s.dirs ?? []).map((d) => `mkdir -p %{buildroot}${d}\n`).join('');
  const changelog = (s.changelog ?? [{ author: 'Arca Test <test@example.com>', text: 'First build' }])
    .map((c) => `* Mon Dec 07 2026 ${c.author} - ${s.version}-${s.release ?? '1'}\n- ${c.text}\n`)
    .join('\n');
  return [
    `Name: ${s.name}`,
    `Version: ${s.version}`,
    `Release: ${s.release ?? '1'}`,
    ...(s.epoch !== undefined ? [`Epoch: ${s.epoch}`] : []),
    `Summary: ${s.summary ?? `The ${s.name} package`}`,
    'License: MIT',
    `BuildArch: ${s.arch ?? 'noarch'}`,
    'URL: https://example.com/arca',
    ...(s.requires ?? []).map((r) => `Requires: ${r}`),
    ...(s.provides ?? []).map((p) => `Provides: ${p}`),
    '%description',
    `${s.summary ?? `The ${s.name} package`}, built by the Arca tests.`,
    '%install',
    install + dirs,
    '%files',
    ...Object.keys(files),
    ...(s.dirs ?? []).map((d) => `%dir ${d}`),
    ...(s.ghosts ?? []).map((g) => `%ghost ${g}`),
    '%changelog',
    changelog,
  ].join('\n');
}

/** Builds a binary package with rpmbuild in `dir`; returns its file name and bytes. */
export function buildRpm(dir: string, spec: RpmSpec): { file: string; data: Buffer } {
  const top = join(dir, `top-${spec.name}-${spec.version}`);
  mkdirSync(top, { recursive: true });
  const specFile = join(top, `${spec.name}.spec`);
  writeFileSync(specFile, specText(spec));
  execFileSync(
    'rpmbuild',
    ['--define', `_topdir ${top}`, '--define', '_build_id_links none', '--define', '_binary_payloadio w2.xzdio', '--quiet', '-bb', specFile],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const archDir = join(top, 'RPMS', spec.arch ?? 'noarch');
  const file = readdirSync(archDir).find((f) => f.endsWith('.rpm'))!;
  return { file, data: readFileSync(join(archDir, file)) };
}
