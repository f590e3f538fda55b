import { ArcaError } from '../../core/errors.js';
import type { BuildEntriesTable } from '../../db/schema.js';

/**
 * The build-info document the JFrog CLI and the CI plugins publish (`PUT /api/build`; the
 * build-info-go `entities.BuildInfo` shape): name, number, started, modules with artifacts and
 * dependencies, properties, vcs, agent, buildAgent, statuses, … . Arca keeps the document as it
 * came (unknown fields included) and reads only what it indexes.
 */

export type BuildDocument = Record<string, unknown> & {
  name: string;
  number: string;
  started: string;
  modules?: BuildModule[];
  statuses?: BuildStatus[];
  properties?: Record<string, string>;
};

export interface BuildModule {
  id?: string;
  type?: string;
  artifacts?: BuildFile[];
  dependencies?: BuildFile[];
  [field: string]: unknown;
}

export interface BuildFile {
  type?: string;
  name?: string;
  id?: string;
  path?: string;
  sha1?: string;
  sha256?: string;
  md5?: string;
  scopes?: string[];
  [field: string]: unknown;
}

/** A promotion record (`statuses` of the seed's build info). */
export interface BuildStatus {
  status: string;
  comment?: string;
  repository?: string;
  timestamp: string;
  user: string;
  ciUser?: string;
}

/** One artifact or dependency as the index keeps it (a `build_entries` row but its item). */
export type IndexedEntry = Omit<BuildEntriesTable, 'item_id'>;

/** The largest build-info body taken (bytes). */
export const BUILD_INFO_MAX_BYTES = 32 * 1024 * 1024;
/** The most artifacts and dependencies one build may list (all modules together). */
export const BUILD_MAX_ENTRIES = 200_000;

const bad = (message: string) => new ArcaError('BAD_REQUEST', `Invalid build info: ${message}`);
const SHA1 = /^[0-9a-fA-F]{40}$/;

/** The seed's time format (build-info-go `TimeFormat`): `2006-01-02T15:04:05.000-0700`. */
export function formatStarted(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A build's `started` in epoch ms (the seed's format, or any ISO 8601 time); NaN when it is none. */
export function startedMs(started: string): number {
  // A '+' sent unescaped in a query string arrives as a space.
  const iso = started.trim().replace(/ (\d{2}:?\d{2})$/, '+$1').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(iso) : NaN;
}

function checkName(what: string, value: unknown): string {
  if (typeof value === 'number' && what === 'number') value = String(value);
  if (typeof value !== 'string' || value.trim() === '') throw bad(`'${what}' is required (a non-empty string)`);
  if (value.length > 255) throw bad(`'${what}' is longer than 255 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw bad(`'${what}' contains a control character`);
  if (value === '.' || value === '..') throw bad(`'${what}' cannot be '${value}'`);
  return value;
}

/**
 * Validates a published document: an object with a name, a number and (optionally; the
 * time of the publish otherwise) a start time, modules whose artifacts and dependencies are
 * objects with valid checksums, at most BUILD_MAX_ENTRIES of them.
 */
export function parseBuildInfo(text: string, now: number): BuildDocument {
  return checkBuildInfo(text, now).doc;
}

/** parseBuildInfo, and whether the document differs from the text (a `started` added, a number made a string). */
export function checkBuildInfo(text: string, now: number): { doc: BuildDocument; changed: boolean } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`the body is not JSON (${(err as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('the body must be a JSON object');
  const d = doc as Record<string, unknown>;
  const name = checkName('name', d.name);
  const number = checkName('number', d.number);
  let started = d.started;
  if (started === undefined || started === null || started === '') started = formatStarted(now);
  if (typeof started !== 'string' || Number.isNaN(startedMs(started))) throw bad(`'started' must be a time such as 2024-05-01T10:00:00.000+0000, got ${JSON.stringify(started)}`);
  if (d.properties !== undefined && (typeof d.properties !== 'object' || d.properties === null || Array.isArray(d.properties))) throw bad("'properties' must be an object");
  if (d.statuses !== undefined && !Array.isArray(d.statuses)) throw bad("'statuses' must be an array");
  if (d.modules !== undefined && d.modules !== null && !Array.isArray(d.modules)) throw bad("'modules' must be an array");
  let count = 0;
  for (const [i, m] of ((d.modules as unknown[] | null) ?? []).entries()) {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw bad(`modules[${i}] must be an object`);
    for (const kind of ['artifacts', 'dependencies'] as const) {
      const list = (m as Record<string, unknown>)[kind];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw bad(`modules[${i}].${kind} must be an array`);
      count += list.length;
      if (count > BUILD_MAX_ENTRIES) throw bad(`more than ${BUILD_MAX_ENTRIES} artifacts and dependencies`);
      for (const [j, f] of list.entries()) {
        if (!f || typeof f !== 'object' || Array.isArray(f)) throw bad(`modules[${i}].${kind}[${j}] must be an object`);
        const sha1 = (f as BuildFile).sha1;
        if (sha1 !== undefined && sha1 !== null && sha1 !== '' && (typeof sha1 !== 'string' || !SHA1.test(sha1))) {
          throw bad(`modules[${i}].${kind}[${j}].sha1 is not a SHA-1 checksum`);
        }
      }
    }
  }
  return { doc: { ...d, name, number, started } as BuildDocument, changed: started !== d.started || number !== d.number };
}


/** The artifacts and dependencies of a document that carry a sha1 (what the index keeps). */
export function indexedEntries(doc: BuildDocument): IndexedEntry[] {
  const out: IndexedEntry[] = [];
  const cut = (s: unknown, n = 255) => (typeof s === 'string' ? s.slice(0, n) : '');
  for (const m of doc.modules ?? []) {
    for (const [kind, list] of [['artifact', m.artifacts], ['dependency', m.dependencies]] as const) {
      for (const f of list ?? []) {
        if (typeof f.sha1 !== 'string' || !SHA1.test(f.sha1)) continue;
        out.push({
          kind,
          module: cut(m.id),
          name: cut(f.name ?? f.id),
          type: typeof f.type === 'string' ? f.type.slice(0, 64) : null,
          scopes: Array.isArray(f.scopes) ? f.scopes.filter((s) => typeof s === 'string').join(',').slice(0, 255) : null,
          sha1: f.sha1.toLowerCase(),
        });
      }
    }
  }
  return out;
}

/** The characters the seed encodes in build-info repository paths (jfrog-client-go `specialAqlCharacters`). */
const ENCODED: Record<string, string> = { '/': '%2F', '\\': '%5C', '|': '%7C', '*': '%2A', '?': '%3F', "'": '%22', ':': '%3A', ';': '%3B', '%': '%25' };

/** A build name or number as a path segment of the build-info repository. */
export function encodeSegment(value: string): string {
  return value.replace(/\s/g, ' ').replace(/[/\\|*?':;%]/g, (c) => ENCODED[c]);
}

/** Where a build is stored in its build-info repository: `{name}/{number}-{started ms}.json`. */
export function buildItemPath(name: string, number: string, started: number): string {
  return `${encodeSegment(name)}/${encodeSegment(number)}-${started}.json`;
}

type Change = 'new' | 'updated' | 'unchanged' | 'removed';
type DiffPart = Record<Change, unknown[]>;

/**
 * The seed's build diff (`GET /api/build/{name}/{number}?diff={old}`): the artifacts,
 * dependencies and properties of this build against an older one, each split into new,
 * updated (same name, other checksum), unchanged and removed.
 */
export function diffBuilds(current: BuildDocument, old: BuildDocument): { artifacts: DiffPart; dependencies: DiffPart; properties: DiffPart } {
  const files = (doc: BuildDocument, kind: 'artifacts' | 'dependencies') => {
    const map = new Map<string, BuildFile>();
    for (const m of doc.modules ?? []) for (const f of m[kind] ?? []) map.set(String(f.name ?? f.id ?? f.sha1 ?? ''), f);
    return map;
  };
  const compare = <T>(now: Map<string, T>, before: Map<string, T>, same: (a: T, b: T) => boolean, show: (key: string, value: T) => unknown): DiffPart => {
    const part: DiffPart = { new: [], updated: [], unchanged: [], removed: [] };
    for (const [key, value] of now) {
      const was = before.get(key);
      if (was === undefined) part.new.push(show(key, value));
      else (same(value, was) ? part.unchanged : part.updated).push(show(key, value));
    }
    for (const [key, value] of before) if (!now.has(key)) part.removed.push(show(key, value));
    return part;
  };
  const fileDiff = (kind: 'artifacts' | 'dependencies') =>
    compare(
      files(current, kind),
      files(old, kind),
      (a, b) => (a.sha1 ?? '').toLowerCase() === (b.sha1 ?? '').toLowerCase(),
      (key, f) => ({ name: key, type: f.type, sha1: f.sha1, md5: f.md5, ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(f.scopes ? { scopes: f.scopes } : {}) }),
    );
  const props = (doc: BuildDocument) => new Map(Object.entries(doc.properties ?? {}).map(([k, v]) => [k, String(v)]));
  return {
    artifacts: fileDiff('artifacts'),
    dependencies: fileDiff('dependencies'),
    properties: compare(props(current), props(old), (a, b) => a === b, (key, value) => ({ key, value })),
  };
}
