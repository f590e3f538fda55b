import { createHash } from 'node:crypto';
import { gzipSync, deflateSync } from 'node:zlib';
import type { GemSpec, Requirement } from './gem-file.js';
import { gemVersion, marshalDump, rubyTime, sym, type RubyValue } from './marshal.js';
import { compareGemVersions, isPrerelease, splitVersionPlatform, versionAndPlatform } from './names.js';

/**
 * The gem index files: the compact index (`versions`, `info/{name}`, `names`, as
 * rubygems/compact_index writes them) and the legacy Marshal index (`specs.4.8.gz`,
 * `latest_specs.4.8.gz`, `prerelease_specs.4.8.gz`, `quick/Marshal.4.8/*.gemspec.rz`).
 *
 * `versions` is kept append-only, as rubygems.org keeps it: a push appends `name version md5`,
 * a yank `name -version md5` (md5 of the gem's new info file); bundler reads the lines in
 * order. The legacy specs and `names` are derived from it.
 */

export const md5Hex = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** `>= 1.0&< 2`: a requirement as the compact index writes it (sorted, `&`-joined). */
function requirementLine(reqs: Requirement[]): string {
  return reqs
    .map(([op, v]) => `${op} ${v}`)
    .sort()
    .join('&');
}

/** One line of `info/{name}` for a version (runtime dependencies only, as rubygems.org writes). */
export function infoLine(spec: GemSpec, sha256: string): string {
  const deps = spec.dependencies.filter((d) => d.type === 'runtime').map((d) => `${d.name}:${requirementLine(d.requirements)}`);
  let line = `${versionAndPlatform(spec.version, spec.platform)} ${deps.join(',')}|checksum:${sha256}`;
  const ruby = requirementLine(spec.requiredRubyVersion);
  const rubygems = requirementLine(spec.requiredRubygemsVersion);
  if (ruby !== '>= 0') line += `,ruby:${ruby}`;
  if (rubygems !== '>= 0') line += `,rubygems:${rubygems}`;
  return line;
}

/** The body lines of an index file (after its `---` line). */
export function bodyLines(file: string): string[] {
  const lines = file.split('\n');
  const header = lines.indexOf('---');
  return (header >= 0 ? lines.slice(header + 1) : lines).filter((l) => l !== '');
}

/** `info/{name}` with the line of `key` (`version[-platform]`) replaced, added or (line undefined) removed. */
export function updateInfo(existing: string | undefined, key: string, line: string | undefined): string {
  const lines = existing === undefined ? [] : bodyLines(existing).filter((l) => l.split(' ', 1)[0] !== key);
  if (line !== undefined) lines.push(line);
  return `---\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** The version keys (`version[-platform]`) an info file lists. */
export function infoKeys(info: string): string[] {
  return bodyLines(info).map((l) => l.split(' ', 1)[0]);
}

export function newVersionsFile(nowMs: number): string {
  return `created_at: ${new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z')}\n---\n`;
}

/** The line a push (`-` prefixed keys: a yank) appends to `versions`. */
export function versionsLine(name: string, keys: string[], infoMd5: string): string {
  return `${name} ${keys.join(',')} ${infoMd5}\n`;
}

/** The gems a versions file lists, as bundler reads it: live version keys and the last info checksum per name. */
export interface VersionsIndex {
  /** Names in first-seen order, each with its live keys in order. */
  gems: Map<string, { keys: string[]; checksum: string }>;
}

export function parseVersions(file: string): VersionsIndex {
  const gems = new Map<string, { keys: string[]; checksum: string }>();
  for (const line of bodyLines(file)) {
    const [name, list, checksum] = line.split(' ', 3);
    if (!name || list === undefined) continue;
    const g = gems.get(name) ?? { keys: [], checksum: '' };
    g.checksum = checksum ?? '';
    for (const k of list.split(',')) {
      if (k === '') continue;
      if (k.startsWith('-')) g.keys = g.keys.filter((x) => x !== k.slice(1));
      else if (!g.keys.includes(k)) g.keys.push(k);
    }
    gems.set(name, g);
  }
  return { gems };
}

/** Appended lines a versions file may hold beyond one per gem before it is compacted. */
export const VERSIONS_SLACK = 1000;

/**
 * `file` as it is, or, once its lines outnumber its gems by more than VERSIONS_SLACK, made
 * again with one line per gem and a new `created_at` (as rubygems.org compacts its file; bundler
 * then downloads it whole once). Its cost follows the file's size, not the repository's gems.
 */
export function compactVersions(file: string, nowMs: number): string {
  const lines = bodyLines(file).length;
  const index = parseVersions(file);
  if (lines <= index.gems.size + VERSIONS_SLACK) return file;
  let out = newVersionsFile(nowMs);
  for (const name of [...index.gems.keys()].sort()) {
    const g = index.gems.get(name)!;
    if (g.keys.length > 0) out += versionsLine(name, g.keys, g.checksum);
  }
  return out;
}

/**
 * A versions file for a virtual repository: each name once with the union of its members'
 * versions. The checksum is the member's when one member has the gem (the merged info is then
 * its info), else a digest of the members' checksums (bundler then asks for the info again,
 * answered 304 while it is unchanged).
 */
export function mergeVersions(files: string[], nowMs: number): string {
  const merged = new Map<string, { keys: string[]; checksums: string[] }>();
  for (const f of files) {
    for (const [name, g] of parseVersions(f).gems) {
      if (g.keys.length === 0) continue;
      const m = merged.get(name) ?? { keys: [], checksums: [] };
      for (const k of g.keys) if (!m.keys.includes(k)) m.keys.push(k);
      m.checksums.push(g.checksum);
      merged.set(name, m);
    }
  }
  let out = newVersionsFile(nowMs);
  for (const name of [...merged.keys()].sort()) {
    const m = merged.get(name)!;
    out += versionsLine(name, m.keys, m.checksums.length === 1 ? m.checksums[0] : md5Hex(m.checksums.join(',')));
  }
  return out;
}

/** Info files of the members merged: the first member's line for a version wins. */
export function mergeInfo(files: string[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const f of files) {
    for (const l of bodyLines(f)) {
      const key = l.split(' ', 1)[0];
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push(l);
    }
  }
  return `---\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** `names`: the gems with at least one live version, sorted. */
export function namesFile(index: VersionsIndex): string {
  const names = [...index.gems].filter(([, g]) => g.keys.length > 0).map(([n]) => n).sort();
  return `---\n${names.map((n) => `${n}\n`).join('')}`;
}

export type SpecsKind = 'specs' | 'latest_specs' | 'prerelease_specs';

/** `specs.4.8.gz` and its kin, gzipped Marshal arrays of `[name, Gem::Version, platform]`. */
export function specsFile(index: VersionsIndex, kind: SpecsKind): Buffer {
  const tuples: { name: string; version: string; platform: string }[] = [];
  for (const [name, g] of index.gems) {
    const all = g.keys.map(splitVersionPlatform);
    if (kind === 'prerelease_specs') tuples.push(...all.filter((v) => isPrerelease(v.version)).map((v) => ({ name, ...v })));
    else if (kind === 'specs') tuples.push(...all.filter((v) => !isPrerelease(v.version)).map((v) => ({ name, ...v })));
    else {
      // The newest release per platform.
      const latest = new Map<string, string>();
      for (const v of all) {
        if (isPrerelease(v.version)) continue;
        const cur = latest.get(v.platform);
        if (cur === undefined || compareGemVersions(v.version, cur) > 0) latest.set(v.platform, v.version);
      }
      for (const [platform, version] of latest) tuples.push({ name, version, platform });
    }
  }
  tuples.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareGemVersions(a.version, b.version) || (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0)));
  return gzipSync(marshalDump(tuples.map((t) => [t.name, gemVersion(t.version), t.platform])));
}

const requirement = (reqs: Requirement[]): RubyValue => ({
  kind: 'user-marshal',
  className: 'Gem::Requirement',
  value: [reqs.map(([op, v]) => [op, gemVersion(v)])],
});

/** The `Gem::Specification` of a gem, Marshal-dumped (its `_dump` array) and deflated: `quick/Marshal.4.8/{full}.gemspec.rz`. */
export function quickSpec(spec: GemSpec, nowMs: number): Buffer {
  const dependencies: RubyValue[] = spec.dependencies.map((d) => ({
    kind: 'object',
    className: 'Gem::Dependency',
    ivars: [
      ['@name', d.name],
      ['@requirement', requirement(d.requirements)],
      ['@type', sym(d.type)],
      ['@prerelease', false],
      ['@version_requirements', requirement(d.requirements)],
    ],
  }));
  const fields: RubyValue[] = [
    spec.rubygemsVersion,
    spec.specificationVersion,
    spec.name,
    gemVersion(spec.version),
    rubyTime(spec.date ?? nowMs),
    spec.summary,
    requirement(spec.requiredRubyVersion),
    requirement(spec.requiredRubygemsVersion),
    spec.platform,
    dependencies,
    '',
    spec.email,
    spec.authors,
    spec.description,
    spec.homepage,
    true,
    spec.platform,
    spec.licenses,
    { kind: 'hash', entries: Object.entries(spec.metadata) },
  ];
  const dumped = marshalDump({ kind: 'user-dump', className: 'Gem::Specification', bytes: marshalDump(fields) });
  return deflateSync(dumped);
}
