/**
 * The chart repository index (`index.yaml`, apiVersion v1) and its pieces.
 *
 * A local repository keeps one fragment per chart name (`.helm/entries/{name}.json`: that
 * chart's index entries, newest first) and the index itself, laid out as
 *
 *   apiVersion: v1
 *   entries:
 *     {name}:            <- one block per chart, sorted by name
 *       - ...            <- every line of a block is indented further (or empty)
 *   generated: "…"
 *
 * so a deploy or delete replaces one chart's block in the stored text (`spliceIndex`): no
 * other chart's fragment or archive is read. Keys inside entries are sorted, as Helm writes
 * them. YAML is written for YAML 1.1 readers (Helm's): strings such as `yes`, `1.10` or a
 * timestamp are quoted.
 */
import { parse, stringify } from 'yaml';
import { compareVersions, type ChartMetadata } from './chart-metadata.js';

/** One chart version in an index: Chart.yaml's fields, then urls, created and digest. */
export type IndexEntry = Record<string, unknown> & { name: string; version: string; urls: string[] };

/** Chart name → its versions, newest first. */
export type IndexEntries = Map<string, IndexEntry[]>;

/** The `generated` time of an index that has never had a chart. */
export const EMPTY_INDEX_TIME = '1970-01-01T00:00:00.000Z';

const YAML_OPTIONS = { version: '1.1', lineWidth: 0 } as const;
const HEAD = 'apiVersion: v1\nentries:\n';

function sortedKeys(o: Record<string, unknown>): IndexEntry {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]])) as IndexEntry;
}

/** The index entry of a stored chart archive. */
export function entryOf(md: ChartMetadata, file: { url: string; digest: string; created: string }): IndexEntry {
  return sortedKeys({ ...md, urls: [file.url], created: file.created, digest: file.digest });
}

/** Newest version first (Helm's SortEntries). */
export function sortEntries(list: IndexEntry[]): IndexEntry[] {
  return [...list].sort((a, b) => compareVersions(b.version, a.version));
}

/** One chart's block of the index (`  {name}:` and its entries, indented). */
export function renderBlock(name: string, list: readonly IndexEntry[]): string {
  return stringify({ [name]: list }, YAML_OPTIONS)
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}

function generatedLine(generated: string): string {
  return `generated: ${stringify(generated, YAML_OPTIONS)}`;
}

/** A whole index from its blocks (any order: they are sorted by chart name here). */
export function renderIndex(blocks: Iterable<[string, string]>, generated: string): string {
  const sorted = [...blocks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = sorted.map(([, block]) => block).join('');
  return `${body === '' ? 'apiVersion: v1\nentries: {}\n' : HEAD + body}${generatedLine(generated)}`;
}

/** A whole index from entries. */
export function renderEntries(entries: IndexEntries, generated: string): string {
  return renderIndex([...entries].filter(([, list]) => list.length > 0).map(([name, list]) => [name, renderBlock(name, list)]), generated);
}

/** The chart name a block's first line (`  {name}:`) stands for. */
function blockName(line: string): string | undefined {
  if (!line.endsWith(':')) return undefined;
  try {
    const doc = parse(`${line.trim()} null`, { version: '1.1' }) as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
    const keys = Object.keys(doc);
    return keys.length === 1 ? keys[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Splits an index written by `renderIndex` into its blocks; undefined when it is laid out otherwise. */
export function indexBlocks(text: string): Map<string, string> | undefined {
  const gen = text.lastIndexOf('\ngenerated: ');
  if (gen < 0) return undefined;
  const head = text.slice(0, gen + 1);
  if (head === 'apiVersion: v1\nentries: {}\n') return new Map();
  if (!head.startsWith(HEAD)) return undefined;
  const blocks = new Map<string, string>();
  const lines = head.slice(HEAD.length).split('\n');
  lines.pop();
  let name: string | undefined;
  let current: string[] = [];
  const flush = () => {
    if (name !== undefined) blocks.set(name, `${current.join('\n')}\n`);
  };
  for (const line of lines) {
    if (line.startsWith('  ') && line[2] !== ' ') {
      flush();
      name = blockName(line);
      if (name === undefined) return undefined;
      current = [line];
    } else {
      if (name === undefined || (line !== '' && !line.startsWith('   '))) return undefined;
      current.push(line);
    }
  }
  flush();
  return blocks;
}

/**
 * The stored index with chart `name`'s block replaced (removed when `block` is undefined);
 * undefined when `previous` is not laid out as `renderIndex` writes (then it is rebuilt from
 * the fragments).
 */
export function spliceIndex(previous: string, name: string, block: string | undefined, generated: string): string | undefined {
  const blocks = indexBlocks(previous);
  if (!blocks) return undefined;
  if (block === undefined) blocks.delete(name);
  else blocks.set(name, block);
  return renderIndex(blocks, generated);
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Failsafe scalars back into the booleans of Helm's ChartVersion; empty values dropped. */
function typedEntry(raw: Record<string, unknown>): IndexEntry | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === '' || v === '~' || v === 'null') continue;
    if (k === 'deprecated' || k === 'removed') {
      if (v === 'true') out[k] = true;
      continue;
    }
    if (k === 'dependencies' && Array.isArray(v)) {
      out[k] = v.map((d) => (isMap(d) && (d.enabled === 'true' || d.enabled === 'false') ? { ...d, enabled: d.enabled === 'true' } : d));
      continue;
    }
    out[k] = v;
  }
  if (typeof out.name !== 'string' || typeof out.version !== 'string') return undefined;
  if (!Array.isArray(out.urls) || out.urls.some((u) => typeof u !== 'string')) out.urls = [];
  return out as IndexEntry;
}

/** An index as read: its entries, and its `generated` time when it has a valid one (ISO). */
export interface ParsedIndex {
  entries: IndexEntries;
  generated?: string;
}

/**
 * The entries of an index written by anyone (an upstream chart repository, JSON or YAML).
 * Scalars are kept as written (YAML's failsafe schema, so versions such as `1.10` survive),
 * entries without a name and version are dropped, and every chart's list is sorted newest
 * first. Throws when the text is not a chart repository index.
 */
export function parseIndex(text: string): ParsedIndex {
  const doc = parse(text, { schema: 'failsafe', maxAliasCount: 1000, uniqueKeys: false }) as unknown;
  if (!isMap(doc) || typeof doc.apiVersion !== 'string') throw new Error('not a chart repository index (no apiVersion)');
  const entries: IndexEntries = new Map();
  const generated = typeof doc.generated === 'string' && !Number.isNaN(Date.parse(doc.generated)) ? new Date(doc.generated).toISOString() : undefined;
  if (!isMap(doc.entries)) return { entries, generated };
  for (const [name, list] of Object.entries(doc.entries)) {
    if (!Array.isArray(list)) continue;
    const kept = list.filter(isMap).map(typedEntry).filter((e): e is IndexEntry => e !== undefined);
    if (kept.length > 0) entries.set(name, sortEntries(kept));
  }
  return { entries, generated };
}

/**
 * The `generated` of indexes merged: the newest of theirs, so the same sources always make
 * the same text (and ETag).
 */
export function newestGenerated(indexes: ReadonlyArray<{ generated?: string }>): string {
  return indexes.reduce((max, i) => (i.generated && i.generated > max ? i.generated : max), EMPTY_INDEX_TIME);
}

/** Indexes merged in order: for each chart name and version, the first index's entry wins. */
export function mergeIndexes(indexes: readonly IndexEntries[]): IndexEntries {
  const merged: IndexEntries = new Map();
  for (const index of indexes) {
    for (const [name, list] of index) {
      const have = merged.get(name) ?? [];
      const versions = new Set(have.map((e) => e.version));
      const added = list.filter((e) => !versions.has(e.version));
      if (added.length > 0) merged.set(name, have.length === 0 ? added : sortEntries([...have, ...added]));
    }
  }
  return new Map([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * An upstream's entries as a remote repository serves them: a chart URL below the upstream
 * repository's `base` (absolute, or relative to its index) becomes a path relative to the
 * remote's own index, so clients fetch the chart through the remote (and its cache); URLs
 * elsewhere are made absolute (the upstream's relative ones resolved against it).
 */
export function rewriteUrls(entries: IndexEntries, base: string): IndexEntries {
  const root = base.endsWith('/') ? base : `${base}/`;
  const rewrite = (u: string): string => {
    let abs: URL;
    try {
      abs = new URL(u, root);
    } catch {
      return u;
    }
    const href = abs.href;
    // Elsewhere: absolute, since a relative URL would now resolve against the remote.
    return href.startsWith(root) && abs.search === '' && abs.hash === '' && href.length > root.length ? href.slice(root.length) : href;
  };
  const out: IndexEntries = new Map();
  for (const [name, list] of entries) out.set(name, list.map((e) => ({ ...e, urls: e.urls.map(rewrite) })));
  return out;
}

/** A chart's fragment as stored (`.helm/entries/{name}.json`). */
export interface ChartFragment {
  name: string;
  entries: IndexEntry[];
}

export function parseFragment(data: Buffer): ChartFragment {
  const doc = JSON.parse(data.toString('utf8')) as ChartFragment;
  return { name: doc.name, entries: Array.isArray(doc.entries) ? doc.entries : [] };
}

export function fragmentBytes(fragment: ChartFragment): Buffer {
  return Buffer.from(JSON.stringify(fragment));
}
