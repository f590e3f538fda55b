/**
 * One package's entries in `primary.xml`, `filelists.xml` and `other.xml`, as createrepo_c
 * writes them (its `xml_dump_primary.c` and friends): the same elements, attributes and order,
 * so libsolv and librepo read them as they read a createrepo_c repository. The documents'
 * opening and closing lines are in repodata-files.ts.
 */
import type { DependencyKind, RpmDependency, RpmHeader } from './rpm-header.js';

/** What the metadata says of the stored file (not in its header). */
export interface StoredPackage {
  /** SHA-256 of the whole file: the package id. */
  sha256: string;
  size: number;
  /** When the file was stored (seconds since the epoch). */
  fileTime: number;
  /** The file's path relative to the repository root the metadata is for. */
  href: string;
}

/** Changelog entries listed per package (the newest ones; older entries rarely matter and can be many). */
export const MAX_CHANGELOGS = 20;

/** The three entries of one package. */
export interface PackageXml {
  primary: string;
  filelists: string;
  other: string;
}

// Characters XML 1.0 does not allow (control characters other than tab, LF, CR) are dropped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeXml(text: string): string {
  return text.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `[epoch:]version[-release]` as its three parts (createrepo's `cr_str_to_evr`). */
export function splitEvr(evr: string): { epoch?: string; ver?: string; rel?: string } {
  if (!evr) return {};
  let rest = evr;
  let epoch: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0 && /^\d*$/.test(rest.slice(0, colon))) {
    epoch = rest.slice(0, colon) || '0';
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const ver = dash >= 0 ? rest.slice(0, dash) : rest;
  const rel = dash >= 0 ? rest.slice(dash + 1) : undefined;
  return { epoch: epoch ?? '0', ver, rel };
}

const RPMSENSE_LESS = 2;
const RPMSENSE_GREATER = 4;
const RPMSENSE_EQUAL = 8;
/** Pre-requirement bits: PREREQ, SCRIPT_PRE, SCRIPT_POST (createrepo's `pre="1"`). */
const RPMSENSE_PRE = (1 << 6) | (1 << 9) | (1 << 10);

function flagName(flags: number): string | undefined {
  switch (flags & (RPMSENSE_LESS | RPMSENSE_GREATER | RPMSENSE_EQUAL)) {
    case RPMSENSE_LESS:
      return 'LT';
    case RPMSENSE_GREATER:
      return 'GT';
    case RPMSENSE_EQUAL:
      return 'EQ';
    case RPMSENSE_LESS | RPMSENSE_EQUAL:
      return 'LE';
    case RPMSENSE_GREATER | RPMSENSE_EQUAL:
      return 'GE';
    default:
      return undefined;
  }
}

function entry(dep: RpmDependency, withPre: boolean): string {
  let out = `      <rpm:entry name="${escapeXml(dep.name)}"`;
  const flag = flagName(dep.flags);
  if (flag) {
    out += ` flags="${flag}"`;
    const evr = splitEvr(dep.version);
    if (evr.epoch !== undefined) out += ` epoch="${escapeXml(evr.epoch)}"`;
    if (evr.ver !== undefined) out += ` ver="${escapeXml(evr.ver)}"`;
    if (evr.rel !== undefined) out += ` rel="${escapeXml(evr.rel)}"`;
  }
  if (withPre && (dep.flags & RPMSENSE_PRE) !== 0) out += ` pre="1"`;
  return `${out}/>\n`;
}

/** The dependencies of one kind as createrepo lists them: no `rpmlib(...)` requirements, no repeats. */
function depBlock(kind: DependencyKind, deps: RpmDependency[], provides: Set<string>): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const d of deps) {
    if (kind === 'requires') {
      if (d.name.startsWith('rpmlib(')) continue;
      // A requirement the package provides itself (`Requires: foo = 1.0` of foo) says nothing.
      if (provides.has(`${d.name} ${d.flags & 0xe} ${d.version}`)) continue;
    }
    const key = `${d.name} ${d.flags & (0xe | RPMSENSE_PRE)} ${d.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(entry(d, kind === 'requires'));
  }
  return lines.length === 0 ? '' : `    <rpm:${kind}>\n${lines.join('')}    </rpm:${kind}>\n`;
}

/** Files primary.xml lists (createrepo's rule: what dependencies on a path usually name). */
function primaryFile(path: string): boolean {
  return path.startsWith('/etc/') || /^\/(usr\/)?s?bin\//.test(path) || path === '/usr/lib/sendmail';
}

function fileLine(f: { path: string; type: string }, indent: string): string {
  const type = f.type === 'file' ? '' : ` type="${f.type}"`;
  return `${indent}<file${type}>${escapeXml(f.path)}</file>\n`;
}

function versionLine(h: RpmHeader): string {
  return `  <version epoch="${h.epoch}" ver="${escapeXml(h.version)}" rel="${escapeXml(h.release)}"/>\n`;
}

function packageAttributes(h: RpmHeader, p: StoredPackage): string {
  return `pkgid="${p.sha256}" name="${escapeXml(h.name)}" arch="${escapeXml(h.arch)}"`;
}

/** The three entries of a package, each ending with a newline. */
export function packageXml(h: RpmHeader, p: StoredPackage): PackageXml {
  const provides = new Set(h.dependencies.provides.map((d) => `${d.name} ${d.flags & 0xe} ${d.version}`));
  const deps = (['provides', 'requires', 'conflicts', 'obsoletes', 'suggests', 'enhances', 'recommends', 'supplements'] as const)
    .map((k) => depBlock(k, h.dependencies[k], provides))
    .join('');
  const primaryFiles = h.files.filter((f) => primaryFile(f.path)).map((f) => fileLine(f, '    ')).join('');
  const primary =
    `<package type="rpm">\n` +
    `  <name>${escapeXml(h.name)}</name>\n` +
    `  <arch>${escapeXml(h.arch)}</arch>\n` +
    versionLine(h) +
    `  <checksum type="sha256" pkgid="YES">${p.sha256}</checksum>\n` +
    `  <summary>${escapeXml(h.summary)}</summary>\n` +
    `  <description>${escapeXml(h.description)}</description>\n` +
    `  <packager>${escapeXml(h.packager)}</packager>\n` +
    `  <url>${escapeXml(h.url)}</url>\n` +
    `  <time file="${p.fileTime}" build="${h.buildTime}"/>\n` +
    `  <size package="${p.size}" installed="${h.installedSize}" archive="${h.archiveSize}"/>\n` +
    `  <location href="${escapeXml(p.href)}"/>\n` +
    `  <format>\n` +
    `    <rpm:license>${escapeXml(h.license)}</rpm:license>\n` +
    `    <rpm:vendor>${escapeXml(h.vendor)}</rpm:vendor>\n` +
    `    <rpm:group>${escapeXml(h.group)}</rpm:group>\n` +
    `    <rpm:buildhost>${escapeXml(h.buildhost)}</rpm:buildhost>\n` +
    `    <rpm:sourcerpm>${escapeXml(h.sourcerpm)}</rpm:sourcerpm>\n` +
    `    <rpm:header-range start="${h.headerStart}" end="${h.headerEnd}"/>\n` +
    deps +
    primaryFiles +
    `  </format>\n` +
    `</package>\n`;
  const filelists = `<package ${packageAttributes(h, p)}>\n${versionLine(h)}${h.files.map((f) => fileLine(f, '  ')).join('')}</package>\n`;
  // rpm keeps the newest entry first; createrepo lists them oldest first.
  const changelogs = h.changelogs
    .slice(0, MAX_CHANGELOGS)
    .reverse()
    .map((c) => `  <changelog author="${escapeXml(c.author)}" date="${c.date}">${escapeXml(c.text)}</changelog>\n`)
    .join('');
  const other = `<package ${packageAttributes(h, p)}>\n${versionLine(h)}${changelogs}</package>\n`;
  return { primary, filelists, other };
}
