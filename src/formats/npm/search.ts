/**
 * `GET /-/v1/search?text=…&size=…&from=…`: matching package documents against npm's search
 * text and building the response npm prints. Terms match the name, description and
 * keywords; `keywords:a,b`, `author:x`, `maintainer:x` and `scope:x` qualifiers filter.
 * Scores are simple (a name match ranks first); there are no popularity figures to report,
 * so every detail score is the same constant.
 */
import { latestVersion, type PackageDocument } from './packument.js';

export interface SearchQuery {
  terms: string[];
  keywords: string[];
  author?: string;
  maintainer?: string;
  scope?: string;
  size: number;
  from: number;
}

export const MAX_SEARCH_SIZE = 250;

function intParam(v: unknown, dflt: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : dflt;
  return Math.min(n, max);
}

export function parseSearchQuery(params: Record<string, unknown>): SearchQuery {
  const text = typeof params.text === 'string' ? params.text : '';
  const q: SearchQuery = { terms: [], keywords: [], size: Math.max(1, intParam(params.size, 20, MAX_SEARCH_SIZE)), from: intParam(params.from, 0, 100_000) };
  for (const token of text.toLowerCase().split(/\s+/).filter((t) => t !== '')) {
    const colon = token.indexOf(':');
    const key = colon > 0 ? token.slice(0, colon) : '';
    const value = token.slice(colon + 1);
    if (key === 'keywords') q.keywords.push(...value.split(',').filter((k) => k !== ''));
    else if (key === 'author') q.author = value;
    else if (key === 'maintainer') q.maintainer = value;
    else if (key === 'scope') q.scope = value.replace(/^@/, '');
    else if (key === 'is' || key === 'not' || key === 'boost-exact') continue;
    else q.terms.push(token);
  }
  return q;
}

interface Person {
  name?: unknown;
  email?: unknown;
  username?: unknown;
}

function personName(p: unknown): string | undefined {
  if (typeof p === 'string') return p.replace(/\s*[<(].*$/, '').trim();
  if (p && typeof p === 'object' && typeof (p as Person).name === 'string') return (p as Person).name as string;
  return undefined;
}

function keywordsOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((k): k is string => typeof k === 'string');
  if (typeof v === 'string') return v.split(/[,\s]+/).filter((k) => k !== '');
  return [];
}

export interface SearchObject {
  package: Record<string, unknown>;
  score: { final: number; detail: { quality: number; popularity: number; maintenance: number } };
  searchScore: number;
}

/**
 * What a search matches a package on, lowercased: its name, the latest version's description,
 * keywords and author, and the package's maintainers. Kept per package in the search index
 * (migration 0013), so a search reads these instead of the document.
 */
export interface SearchFields {
  name: string;
  description: string;
  keywords: string[];
  author?: string;
  maintainers: string[];
}

/** A package as the search index holds it: its match fields and its answer entry (no links yet). */
export interface IndexedPackage {
  name: string;
  fields: SearchFields;
  /** The `package` object of the answer, with `links` still null (they depend on the URL asked). */
  entry: Record<string, unknown>;
}

/** The index entry of a document; undefined when no search can find it (no latest version). */
export function indexDocument(doc: PackageDocument): IndexedPackage | undefined {
  const latest = latestVersion(doc);
  if (!latest) return undefined;
  const m = doc.versions[latest];
  const description = typeof m.description === 'string' ? m.description : '';
  const keywords = keywordsOf(m.keywords);
  const maintainers = (doc.maintainers ?? []).map((p) => ({ username: p.name, email: p.email ?? '' }));
  const author = personName(m.author);
  const publisher = (m._npmUser as Person | undefined)?.name;
  const entry: Record<string, unknown> = {
    name: doc.name,
    scope: doc.name.startsWith('@') ? doc.name.slice(1, doc.name.indexOf('/')) : 'unscoped',
    version: latest,
    description,
    keywords,
    date: doc.time[latest] ?? doc.time.modified,
    links: null,
    maintainers,
  };
  if (author) entry.author = { name: author };
  if (typeof publisher === 'string') entry.publisher = { username: publisher, email: '' };
  const fields: SearchFields = {
    name: doc.name.toLowerCase(),
    description: description.toLowerCase(),
    keywords: keywords.map((k) => k.toLowerCase()),
    maintainers: maintainers.map((p) => p.username.toLowerCase()),
  };
  if (author !== undefined) fields.author = author.toLowerCase();
  return { name: doc.name, fields, entry };
}

/**
 * The text every term and keyword of a matching query occurs in (name, keywords, description,
 * one per line): the index's coarse filter, which `matchFields` then decides exactly.
 */
export function searchText(f: SearchFields): string {
  return [f.name, ...f.keywords, f.description].join('\n');
}

/** The score of a package for the query (a name match ranks first), or undefined when it does not match. */
export function matchFields(f: SearchFields, q: SearchQuery): number | undefined {
  if (q.scope !== undefined && !f.name.startsWith(`@${q.scope}/`)) return undefined;
  if (q.keywords.some((k) => !f.keywords.includes(k))) return undefined;
  if (q.author !== undefined && f.author !== q.author && !f.maintainers.includes(q.author)) return undefined;
  if (q.maintainer !== undefined && !f.maintainers.includes(q.maintainer)) return undefined;
  let score = 0;
  for (const t of q.terms) {
    if (f.name === t) score += 100;
    else if (f.name.includes(t)) score += 10;
    else if (f.keywords.includes(t)) score += 5;
    else if (f.description.includes(t)) score += 1;
    else return undefined;
  }
  return score + 1;
}

/** The answer object of an indexed package at `packageUrl`. */
export function searchObject(entry: Record<string, unknown>, packageUrl: string, searchScore: number): SearchObject {
  return { package: { ...entry, links: { npm: packageUrl } }, score: { final: 1, detail: { quality: 1, popularity: 1, maintenance: 1 } }, searchScore };
}

/** The search entry of one document, or undefined when the query does not match it. */
export function matchDocument(doc: PackageDocument, q: SearchQuery, packageUrl: string): SearchObject | undefined {
  const indexed = indexDocument(doc);
  const score = indexed && matchFields(indexed.fields, q);
  return score === undefined ? undefined : searchObject(indexed!.entry, packageUrl, score);
}

/** Sorts matches (best first, then by name) and cuts the requested page. */
export function searchPage(matches: SearchObject[], q: SearchQuery): { objects: SearchObject[]; total: number } {
  const sorted = [...matches].sort((a, b) => b.searchScore - a.searchScore || String(a.package.name).localeCompare(String(b.package.name)));
  return { objects: sorted.slice(q.from, q.from + q.size), total: matches.length };
}
