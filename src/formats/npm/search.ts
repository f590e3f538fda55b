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

/** The search entry of one document, or undefined when the query does not match it. */
export function matchDocument(doc: PackageDocument, q: SearchQuery, packageUrl: string): SearchObject | undefined {
  const latest = latestVersion(doc);
  if (!latest) return undefined;
  const m = doc.versions[latest];
  const name = doc.name.toLowerCase();
  const description = typeof m.description === 'string' ? m.description : '';
  const keywords = keywordsOf(m.keywords);
  const lowerKeywords = keywords.map((k) => k.toLowerCase());
  const maintainers = (doc.maintainers ?? []).map((p) => ({ username: p.name, email: p.email ?? '' }));
  const author = personName(m.author);
  if (q.scope !== undefined && !name.startsWith(`@${q.scope}/`)) return undefined;
  if (q.keywords.some((k) => !lowerKeywords.includes(k))) return undefined;
  if (q.author !== undefined && author?.toLowerCase() !== q.author && !maintainers.some((p) => p.username.toLowerCase() === q.author)) return undefined;
  if (q.maintainer !== undefined && !maintainers.some((p) => p.username.toLowerCase() === q.maintainer)) return undefined;
  let score = 0;
  for (const t of q.terms) {
    if (name === t) score += 100;
    else if (name.includes(t)) score += 10;
    else if (lowerKeywords.includes(t)) score += 5;
    else if (description.toLowerCase().includes(t)) score += 1;
    else return undefined;
  }
  const publisher = (m._npmUser as Person | undefined)?.name;
  const pkg: Record<string, unknown> = {
    name: doc.name,
    scope: doc.name.startsWith('@') ? doc.name.slice(1, doc.name.indexOf('/')) : 'unscoped',
    version: latest,
    description,
    keywords,
    date: doc.time[latest] ?? doc.time.modified,
    links: { npm: packageUrl },
    maintainers,
  };
  if (author) pkg.author = { name: author };
  if (typeof publisher === 'string') pkg.publisher = { username: publisher, email: '' };
  return { package: pkg, score: { final: 1, detail: { quality: 1, popularity: 1, maintenance: 1 } }, searchScore: score + 1 };
}

/** Sorts matches (best first, then by name) and cuts the requested page. */
export function searchPage(matches: SearchObject[], q: SearchQuery): { objects: SearchObject[]; total: number } {
  const sorted = [...matches].sort((a, b) => b.searchScore - a.searchScore || String(a.package.name).localeCompare(String(b.package.name)));
  return { objects: sorted.slice(q.from, q.from + q.size), total: matches.length };
}
