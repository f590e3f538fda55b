/**
 * Chart.yaml as the index keeps it: the fields Helm reads from a chart's metadata, checked
 * and cleaned the way Helm's own `Metadata.Validate` does (whitespace turned into spaces,
 * unprintable characters dropped), with SemVer 2 versions. Scalars are read as the text the
 * chart author wrote (YAML's failsafe schema), so `appVersion: 1.10` stays `1.10`.
 */
import { parse } from 'yaml';
import { ArcaError } from '../../core/errors.js';

/** Largest Chart.yaml read (Helm's own limit per file is 5 MiB; real ones are a few KiB). */
export const MAX_CHART_YAML_BYTES = 1024 * 1024;

/** A chart name: what Helm accepts as a file name, kept to characters safe in paths and URLs. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  prerelease: string[];
  build: string;
}

export function parseSemVer(v: string): SemVer | undefined {
  const m = SEMVER.exec(v);
  if (!m) return undefined;
  return { major: BigInt(m[1]), minor: BigInt(m[2]), patch: BigInt(m[3]), prerelease: m[4] ? m[4].split('.') : [], build: m[5] ?? '' };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * SemVer 2 precedence; versions that are equal in precedence (differing in build metadata
 * only) are ordered by their text, so every sort is deterministic. Text that is not SemVer
 * sorts below every version (as Helm puts unparsable versions last).
 */
export function compareVersions(a: string, b: string): number {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  for (const k of ['major', 'minor', 'patch'] as const) if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    if (x.prerelease.length !== y.prerelease.length) return x.prerelease.length === 0 ? 1 : -1;
  } else {
    for (let i = 0; i < Math.min(x.prerelease.length, y.prerelease.length); i++) {
      const c = compareIdentifiers(x.prerelease[i], y.prerelease[i]);
      if (c !== 0) return c;
    }
    if (x.prerelease.length !== y.prerelease.length) return x.prerelease.length < y.prerelease.length ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isChartName(name: string): boolean {
  return NAME.test(name) && name !== '.' && name !== '..';
}

/** The archive name Helm gives a chart version: `{name}-{version}.tgz`. */
export function chartFileName(name: string, version: string): string {
  return `${name}-${version}.tgz`;
}

/**
 * Every (name, version) a file name `{name}-{version}.tgz` can stand for: names and versions
 * may both hold dashes, so `a-1.0.0-2.0.0.tgz` is `a` 1.0.0-2.0.0 or `a-1.0.0` 2.0.0.
 */
export function chartFileCandidates(file: string): Array<{ name: string; version: string }> {
  if (!file.endsWith('.tgz')) return [];
  const stem = file.slice(0, -4);
  const out: Array<{ name: string; version: string }> = [];
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
    const name = stem.slice(0, i);
    const version = stem.slice(i + 1);
    if (isChartName(name) && parseSemVer(version)) out.push({ name, version });
  }
  return out;
}

export interface Maintainer {
  name?: string;
  email?: string;
  url?: string;
}

/** The fields of Chart.yaml the index carries (Helm's `Metadata`), clean. */
export interface ChartMetadata {
  apiVersion: string;
  name: string;
  version: string;
  appVersion?: string;
  description?: string;
  type?: string;
  keywords?: string[];
  home?: string;
  sources?: string[];
  maintainers?: Maintainer[];
  icon?: string;
  dependencies?: Record<string, unknown>[];
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  condition?: string;
  tags?: string;
}

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** Helm's sanitizeString: whitespace becomes a space, unprintable characters go. */
function sanitize(s: string): string {
  return s.replace(/\s/g, ' ').replace(/[\p{C}]/gu, '');
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function text(doc: Record<string, unknown>, key: string, where = 'Chart.yaml'): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`${where}: '${key}' must be a string`);
  return sanitize(v);
}

function texts(doc: Record<string, unknown>, key: string): string[] | undefined {
  const v = doc[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(`Chart.yaml: '${key}' must be a list of strings`);
  return v.length === 0 ? undefined : (v as string[]).map(sanitize);
}

function flag(v: unknown, what: string): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (v === 'true' || v === true) return true;
  if (v === 'false' || v === false) return false;
  throw bad(`Chart.yaml: '${what}' must be true or false`);
}

/** A value with YAML's failsafe strings turned back into the booleans Helm's types have (import-values). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function dependencies(v: unknown): Record<string, unknown>[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad("Chart.yaml: 'dependencies' must be a list");
  const seen = new Set<string>();
  const out = v.map((d) => {
    if (!isMap(d)) throw bad('Chart.yaml: every dependency must be a map');
    const name = text(d, 'name', 'Chart.yaml dependency');
    if (!name) throw bad('Chart.yaml: every dependency needs a name');
    const dep: Record<string, unknown> = { name };
    for (const k of ['version', 'repository', 'condition', 'alias']) {
      const s = text(d, k, `Chart.yaml dependency '${name}'`);
      if (s !== undefined) dep[k] = s;
    }
    if (d.alias !== undefined && typeof dep.alias === 'string' && !/^[a-zA-Z0-9_-]+$/.test(dep.alias)) throw bad(`Chart.yaml: dependency alias '${dep.alias}' is invalid`);
    if (d.tags !== undefined && d.tags !== null) {
      if (!Array.isArray(d.tags) || d.tags.some((t) => typeof t !== 'string')) throw bad(`Chart.yaml: the tags of dependency '${name}' must be a list of strings`);
      dep.tags = d.tags;
    }
    const enabled = flag(d.enabled, `dependencies.${name}.enabled`);
    if (enabled !== undefined) dep.enabled = enabled;
    if (d['import-values'] !== undefined && d['import-values'] !== null) dep['import-values'] = plain(d['import-values']);
    const key = (dep.alias as string | undefined) ?? name;
    if (seen.has(key)) throw bad(`Chart.yaml: more than one dependency with name or alias '${key}'`);
    seen.add(key);
    return dep;
  });
  return out.length === 0 ? undefined : out;
}

/** Parses and checks a Chart.yaml; BAD_REQUEST with the reason when Helm could not use it. */
export function parseChartYaml(data: Buffer): ChartMetadata {
  if (data.length > MAX_CHART_YAML_BYTES) throw bad(`Chart.yaml is larger than ${MAX_CHART_YAML_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = parse(data.toString('utf8'), { schema: 'failsafe', uniqueKeys: true, maxAliasCount: 50, prettyErrors: false });
  } catch (err) {
    throw bad(`Chart.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isMap(doc)) throw bad('Chart.yaml is not a YAML map');
  const name = text(doc, 'name');
  if (!name) throw bad('Chart.yaml: chart.metadata.name is required');
  if (!isChartName(name)) throw bad(`Chart.yaml: chart name '${name}' is invalid (letters, digits, '.', '_' and '-', starting with a letter or digit)`);
  const version = text(doc, 'version');
  if (!version) throw bad('Chart.yaml: chart.metadata.version is required');
  if (!parseSemVer(version)) throw bad(`Chart.yaml: version '${version}' is not a SemVer 2 version`);
  const apiVersion = text(doc, 'apiVersion') ?? 'v1';
  if (apiVersion !== 'v1' && apiVersion !== 'v2') throw bad(`Chart.yaml: apiVersion '${apiVersion}' is not v1 or v2`);
  const type = text(doc, 'type');
  if (type !== undefined && type !== 'application' && type !== 'library') throw bad('Chart.yaml: chart.metadata.type must be application or library');
  const md: ChartMetadata = { apiVersion, name, version };
  for (const k of ['appVersion', 'description', 'home', 'icon', 'kubeVersion', 'condition', 'tags'] as const) {
    const s = text(doc, k);
    if (s !== undefined) md[k] = s;
  }
  if (type) md.type = type;
  const keywords = texts(doc, 'keywords');
  if (keywords) md.keywords = keywords;
  const sources = texts(doc, 'sources');
  if (sources) md.sources = sources;
  if (doc.maintainers !== undefined && doc.maintainers !== null) {
    if (!Array.isArray(doc.maintainers)) throw bad("Chart.yaml: 'maintainers' must be a list");
    md.maintainers = doc.maintainers.map((m) => {
      if (!isMap(m)) throw bad('Chart.yaml: maintainers must not contain empty or null nodes');
      const out: Maintainer = {};
      for (const k of ['name', 'email', 'url'] as const) {
        const s = text(m, k, 'Chart.yaml maintainer');
        if (s !== undefined) out[k] = s;
      }
      return out;
    });
    if (md.maintainers.length === 0) delete md.maintainers;
  }
  const deps = dependencies(doc.dependencies);
  if (deps) md.dependencies = deps;
  const deprecated = flag(doc.deprecated, 'deprecated');
  if (deprecated) md.deprecated = true;
  if (doc.annotations !== undefined && doc.annotations !== null) {
    if (!isMap(doc.annotations) || Object.values(doc.annotations).some((v) => typeof v !== 'string')) throw bad("Chart.yaml: 'annotations' must map strings to strings");
    if (Object.keys(doc.annotations).length > 0) md.annotations = { ...(doc.annotations as Record<string, string>) };
  }
  return md;
}

/**
 * The chart a provenance file (`{chart}.tgz.prov`, a PGP clear-signed message around the
 * chart's Chart.yaml) is for; BAD_REQUEST when it is not one.
 */
export function provenanceChart(data: Buffer): { name: string; version: string } {
  const s = data.subarray(0, 1024 * 1024).toString('utf8');
  if (!s.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) throw bad('The provenance file is not a PGP signed message');
  const name = /\nname:[ \t]*["']?([A-Za-z0-9._-]+)["']?[ \t]*\r?\n/.exec(s)?.[1];
  const version = /\nversion:[ \t]*["']?([0-9A-Za-z.+-]+)["']?[ \t]*\r?\n/.exec(s)?.[1];
  if (!name || !version || !parseSemVer(version)) throw bad('The provenance file names no chart name and SemVer version');
  return { name, version };
}
