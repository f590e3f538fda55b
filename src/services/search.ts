import { isChecksum, type ChecksumAlgorithm } from '../core/digests.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { fullPathOf, getProperties, type ItemRow } from '../db/items.js';
import { hasWildcard, isWildcardOnly, searchItems, type ItemSearch, type PropertyCriterion } from '../db/search-queries.js';
import { fileInfoJson, folderInfoJson, storageUri } from './item-info.js';
import type { Access } from '../security/access.js';
import type { RepoConfig, RepositoryService } from './repositories.js';

type Criteria = Omit<ItemSearch, 'repos' | 'limit'>;

/**
 * The most results one search returns. Artifactory caps REST searches too; 10,000 keeps a
 * response (and the per-item permission checks behind it) bounded. A larger set is cut
 * silently, in repository/path order; narrow the search with `repos` or a tighter pattern.
 */
export const MAX_SEARCH_RESULTS = 10_000;

/** What `X-Result-Detail` asked for. */
export interface ResultDetail {
  info: boolean;
  properties: boolean;
}

export interface SearchScope {
  /** The repositories the caller named (`repos`; unknown keys are skipped), or undefined for all. */
  repos: string[] | undefined;
  base: string;
  detail: ResultDetail;
}

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** Parses `X-Result-Detail: info, properties` (case-insensitive, any order). */
export function parseResultDetail(header: string | undefined): ResultDetail {
  const parts = (header ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  return { info: parts.includes('info'), properties: parts.includes('properties') };
}

/** The artifact search pattern: `*name*` unless the caller wrote a wildcard already. */
export function artifactNamePattern(name: string | undefined): string {
  const n = (name ?? '').trim();
  if (n === '') throw bad("The 'name' parameter is required");
  if (isWildcardOnly(n)) throw bad('Search term containing only wildcards is not permitted');
  return hasWildcard(n) ? n : `*${n}*`;
}

/** Validated, lower-cased checksums of a checksum search; at least one is required. */
export function checksumCriteria(query: Partial<Record<ChecksumAlgorithm, string>>): Partial<Record<ChecksumAlgorithm, string>> {
  const out: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const alg of ['sha1', 'sha256', 'md5'] as const) {
    const raw = query[alg];
    if (raw === undefined) continue;
    const v = raw.trim().toLowerCase();
    if (!isChecksum(alg, v)) throw bad(`Invalid ${alg} checksum '${raw}'`);
    out[alg] = v;
  }
  if (Object.keys(out).length === 0) throw bad('A sha1, sha256 or md5 checksum is required');
  return out;
}

/**
 * Property criteria from query parameters: every parameter except `repos` and `properties`
 * is a key; its comma-separated values are alternatives. No criteria → NOT_FOUND (as
 * Artifactory answers), a wildcard-only value → BAD_REQUEST.
 */
export function propertyCriteria(params: Array<[string, string]>): PropertyCriterion[] {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of params) {
    if (key === 'repos' || key === 'properties' || key === '') continue;
    const values = byKey.get(key) ?? [];
    for (const v of value.split(',')) {
      if (isWildcardOnly(v)) throw bad(`Search term containing only wildcards is not permitted (property '${key}')`);
      if (!values.includes(v)) values.push(v);
    }
    byKey.set(key, values);
  }
  if (byKey.size === 0) throw new ArcaError('NOT_FOUND', 'No properties to search by were given');
  return [...byKey].map(([key, values]) => ({ key, values }));
}

/** The `repos` parameter as a key list, or undefined for all repositories. */
export function reposParam(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const keys = value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  return keys.length === 0 ? undefined : keys;
}

/**
 * Artifact, checksum and property searches (REST-API.md §4), run in the database. A search
 * covers the repositories the caller can read something in and answers only the items the
 * caller's Access may read.
 */
export class SearchService {
  constructor(
    private readonly database: Database,
    private readonly repos: Pick<RepositoryService, 'list' | 'get'>,
  ) {}

  async byName(access: Access, scope: SearchScope, pattern: string) {
    return this.run(access, scope, { filesOnly: true, name: pattern });
  }

  async byChecksum(access: Access, scope: SearchScope, sums: Partial<Record<ChecksumAlgorithm, string>>) {
    return this.run(access, scope, { filesOnly: true, ...sums });
  }

  async byProperties(access: Access, scope: SearchScope, criteria: PropertyCriterion[]) {
    return this.run(access, scope, { properties: criteria });
  }

  /** The repositories `keys` names (or all), limited to those the caller can read something in. */
  private async readable(access: Access, keys: string[] | undefined): Promise<RepoConfig[]> {
    const candidates: RepoConfig[] = [];
    if (keys === undefined) candidates.push(...(await this.repos.list()));
    else {
      for (const key of keys) {
        const repo = await this.repos.get(key);
        if (repo && !candidates.includes(repo)) candidates.push(repo);
      }
    }
    const repos: RepoConfig[] = [];
    for (const r of candidates) if (await access.canReadAny(r)) repos.push(r);
    return repos;
  }

  private async run(access: Access, scope: SearchScope, criteria: Criteria) {
    const repos = await this.readable(access, scope.repos);
    const rows = await searchItems(this.database.db, this.database.dialect, {
      ...criteria,
      repos: repos.map((r) => r.key),
      limit: MAX_SEARCH_RESULTS,
    });
    const byKey = new Map(repos.map((r) => [r.key, r]));
    const visible: ItemRow[] = [];
    for (const r of rows) {
      const repo = byKey.get(r.repo);
      if (repo && (await access.can('read', repo, fullPathOf(r)))) visible.push(r);
    }
    return { results: await this.results(scope, visible) };
  }

  private async results(scope: SearchScope, rows: ItemRow[]) {
    const { base, detail } = scope;
    const props = detail.properties ? await getProperties(this.database.db, rows.map((r) => r.id)) : undefined;
    return rows.map((r) => {
      let entry: Record<string, unknown>;
      if (!detail.info) entry = { uri: storageUri(base, r.repo, fullPathOf(r)) };
      else if (r.type === 'file') entry = fileInfoJson(base, r);
      else {
        const { children: _children, ...folder } = folderInfoJson(base, r.repo, r, [], r.created);
        entry = folder;
      }
      if (props) entry.properties = props.get(r.id) ?? {};
      return entry;
    });
  }
}
