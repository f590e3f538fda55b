/**
 * The registry-wide reads of the npm protocol that reach past one package: search (the
 * packages of local members, then the first remote member's results) and audit (forwarded
 * to the upstream of a remote repository, never answered with a made-up report).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../../core/clock.js';
import { ArcaError } from '../../../core/errors.js';
import type { Access } from '../../../security/access.js';
import { readSmall } from '../../../services/remote/upstream-client.js';
import type { PackageServices } from '../../../services/remote/package-services.js';
import type { NpmStore } from './npm-store.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { escapeName } from '../names.js';
import { matchFields, parseSearchQuery, searchObject, searchPage, type SearchObject } from '../search.js';

const AUDIT_LIMIT = 16 * 1024 * 1024;

/** A search's answer, as `GET /-/v1/search` sends it. */
export interface SearchAnswer {
  objects: SearchObject[];
  total: number;
  time: string;
}

/** An audit request: its body, read only once the caller may audit, and the headers forwarded with it. */
export interface AuditRequest {
  body: () => Promise<Buffer>;
  headers: Record<string, string>;
}

/** What search and audit read through (the npm service gives itself). */
export interface SearchSources {
  readonly store: NpmStore;
  readonly services: PackageServices;
  /** The local repositories a search of `repo` covers (itself, or a virtual's readable locals). */
  searchableLocals(repo: RepoConfig): Promise<RepoConfig[]>;
  /** The remote repository whose upstream answers searches and audits of `repo`, if any. */
  upstreamOf(repo: RepoConfig): Promise<RepoConfig | undefined>;
}

/** The upstream's answer to an audit. */
export interface AuditAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

export class NpmSearch {
  constructor(
    private readonly packages: SearchSources,
    private readonly clock: Clock,
  ) {}

  /**
   * `GET /-/v1/search` in `repo`: the packages of its local members the caller may read, then
   * the first remote member's results. `registryUrl` is what package links are written under;
   * `log` hears of an upstream that failed a virtual repository's search.
   */
  async search(access: Access, repo: RepoConfig, query: URLSearchParams, registryUrl: string, log: Pick<Logger, 'warn'>): Promise<SearchAnswer> {
    if (!(await access.canReadAny(repo))) await access.require('read', repo, '');
    const q = parseSearchQuery(Object.fromEntries(query));
    const index = this.packages.store.searchIndex;
    const locals = await this.packages.searchableLocals(repo);
    for (const local of locals) await index.refresh(local.key);
    // The first local repository (in the virtual's order) that has a matching, readable package answers for its name.
    const rank = new Map(locals.map((l, i) => [l.key, i]));
    const byKey = new Map(locals.map((l) => [l.key, l]));
    const candidates = (await index.candidates([...rank.keys()], q)).sort((a, b) => rank.get(a.repo)! - rank.get(b.repo)! || a.itemId - b.itemId);
    const hits: { itemId: number; name: string; score: number }[] = [];
    const seen = new Set<string>();
    for (const c of candidates) {
      if (seen.has(c.name)) continue;
      const score = matchFields(c.fields, q);
      if (score === undefined || !(await access.can('read', byKey.get(c.repo)!, c.name))) continue;
      seen.add(c.name);
      hits.push({ itemId: c.itemId, name: c.name, score });
    }
    hits.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    const window = hits.slice(q.from, q.from + q.size);
    const entries = await index.entries(window.map((h) => h.itemId));
    let objects: SearchObject[] = [];
    for (const h of window) {
      const entry = entries.get(h.itemId);
      if (entry) objects.push(searchObject(entry, `${registryUrl}${escapeName(h.name)}`, h.score));
    }
    let total = hits.length;
    const remote = await this.upstreamSearch(access, repo, query, q.from + q.size, log);
    if (remote) {
      // The upstream's results follow every local match (score -1), in name order.
      const extra = searchPage(
        remote.objects.filter((o) => o?.package && !seen.has(String(o.package.name))).map((o) => ({ ...o, searchScore: -1 })),
        { ...q, from: 0, size: q.from + q.size },
      ).objects;
      objects = [...objects, ...extra.slice(Math.max(0, q.from - hits.length), Math.max(0, q.from - hits.length) + q.size - objects.length)];
      total += remote.total;
    }
    return { objects, total, time: new Date(this.clock.now()).toUTCString() };
  }

  private async upstreamSearch(
    access: Access,
    repo: RepoConfig,
    query: URLSearchParams,
    size: number,
    log: Pick<Logger, 'warn'>,
  ): Promise<{ objects: SearchObject[]; total: number } | undefined> {
    const upstream = await this.packages.upstreamOf(repo);
    if (!upstream || !(await access.canReadAny(upstream))) return undefined;
    const q = new URLSearchParams(query);
    q.set('size', String(size));
    q.set('from', '0');
    try {
      const res = await this.packages.services.remote.forward(upstream, `-/v1/search?${q}`, { headers: { accept: 'application/json' } });
      const text = (await readSmall(res, 8 * 1024 * 1024)).toString('utf8');
      if (res.status !== 200) throw new ArcaError('UPSTREAM_FAILED', `Search at the upstream of '${upstream.key}' answered HTTP ${res.status}`);
      const body = JSON.parse(text) as { objects?: SearchObject[]; total?: number };
      return { objects: Array.isArray(body.objects) ? body.objects : [], total: Number(body.total) || 0 };
    } catch (err) {
      // In a virtual repository a failing upstream only loses its results; a remote's own search fails.
      if (repo.rclass === 'virtual') {
        log.warn({ err, repo: upstream.key }, 'npm search: upstream failed');
        return undefined;
      }
      if (err instanceof SyntaxError) throw new ArcaError('UPSTREAM_FAILED', `Search at the upstream of '${upstream.key}' did not answer JSON`);
      throw err;
    }
  }

  /** `POST /-/npm/v1/security/{endpoint}`: forwarded to the first remote repository reachable from `repo`, or refused. */
  async audit(access: Access, repo: RepoConfig, endpoint: string, request: AuditRequest): Promise<AuditAnswer> {
    await access.require('read', repo, '');
    const upstream = await this.packages.upstreamOf(repo);
    if (!upstream) {
      throw new ArcaError(
        'NOT_IMPLEMENTED',
        `npm audit is not supported by ${repo.rclass} repository '${repo.key}': it has no remote npm repository to forward the audit to (use a remote or a virtual repository that includes one)`,
      );
    }
    const body = await request.body();
    const res = await this.packages.services.remote.forward(upstream, `-/npm/v1/security/${endpoint}`, { method: 'POST', headers: request.headers, body });
    const answer = await readSmall(res, AUDIT_LIMIT);
    return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', body: answer };
  }
}
