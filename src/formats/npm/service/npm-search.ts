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
import { matchDocument, parseSearchQuery, searchPage, type SearchObject } from '../search.js';

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
    const matches: SearchObject[] = [];
    const seen = new Set<string>();
    for (const local of await this.packages.searchableLocals(repo)) {
      for (const d of await this.packages.store.documents(local.key)) {
        if (seen.has(d.doc.name) || !(await access.can('read', local, d.doc.name))) continue;
        const hit = matchDocument(d.doc, q, `${registryUrl}${escapeName(d.doc.name)}`);
        if (hit) {
          seen.add(d.doc.name);
          matches.push(hit);
        }
      }
    }
    const page = searchPage(matches, q);
    const remote = await this.upstreamSearch(access, repo, query, q.from + q.size, log);
    let objects = page.objects;
    let total = page.total;
    if (remote) {
      const extra = remote.objects.filter((o) => o?.package && !seen.has(String(o.package.name)));
      objects = searchPage([...matches, ...extra.map((o) => ({ ...o, searchScore: -1 }))], q).objects;
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
