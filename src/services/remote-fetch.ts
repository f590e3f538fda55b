import type { DownloadStats } from './download-stats.js';
import type { ContentStore } from '../content/content-store.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import { encodePath } from '../core/paths.js';
import type { Database } from '../db/database.js';
import { ensureFolders, findItem, FolderConflict, putFile, type ItemRow } from '../db/items.js';
import type { PathKind } from '../formats/format-handler.js';
import type { FormatHandlers } from '../formats/format-handlers.js';
import { mimeTypeOf } from './mime-types.js';
import { getCacheRecord, putCacheRecord, touchCacheRecord, type RemoteCacheRecord } from './remote/cache-records.js';
import { remoteSettingsOf, type RemoteSettings } from './remote/remote-settings.js';
import { UpstreamNetwork } from './remote/guarded-http.js';
import { readSmall, upstreamOrigin, upstreamRequest, UpstreamRefused, UpstreamUnreachable, type UpstreamResponse } from './remote/upstream-client.js';
import type { RepoConfig } from './repositories.js';

export interface RemoteFetchOptions {
  /**
   * The URL path below the remote's `url`, already percent-encoded, when it differs from the
   * storage path (npm's scoped packuments, say). Default: the storage path, encoded.
   */
  upstreamPath?: string;
  /** Overrides the format's classification of the path (metadata is re-checked, artifacts are not). */
  kind?: PathKind;
  /** Extra headers for the upstream request (an Accept header, say). */
  headers?: Record<string, string>;
  /** Who asked (recorded as the cached item's creator). */
  user?: string;
  /** Never ask the upstream: the cached copy when it is fresh (or the remote is offline), else ITEM_NOT_FOUND. */
  cacheOnly?: boolean;
}

export interface RemoteFetchDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
  /** The format handlers: what kind of content a path holds (how long a cached copy stays fresh). */
  formats: FormatHandlers;
  /** Decrypts the remote's stored password. */
  masterKey?: Buffer;
  /** Where remotes may connect, and their connections; the built-in deny list on connections of its own when not given. */
  network?: UpstreamNetwork;
  /** Counts each fetch of a cached item from its upstream (`remote_downloads`). */
  downloadStats?: Pick<DownloadStats, 'recordRemote'>;
}

/** Answers for which the upstream is considered failing (the cached copy is served instead). */
function upstreamFailing(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * Proxying for remote repositories, shared by every format: a path is served from the cache
 * while it is fresh, otherwise fetched from the upstream (streamed into the content store,
 * checksums verified when the upstream offers them), with a negative cache for misses,
 * offline mode, an assumed-offline period after network failures, the cached copy served
 * when the upstream fails, and one upstream request per path at a time in this process.
 */
/** A remote's upstream as this process saw it (`GET /api/repositories/{key}/remoteStatus`). */
export interface RemoteStatus {
  /** The upstream's scheme, host and path (never credentials or a query). */
  upstream: string;
  /** `unknown`: this process has not asked the upstream yet. */
  state: 'online' | 'offline' | 'assumed-offline' | 'failing' | 'unknown';
  assumedOfflineUntil?: string;
  lastError?: string;
  lastErrorAt?: string;
}

/** The answer of a connection test (`POST /api/repositories/{key}/testConnection`). */
export interface ConnectionTest {
  ok: boolean;
  /** The upstream's scheme, host and path. */
  url: string;
  status?: number;
  message: string;
  elapsedMs: number;
}

export class RemoteFetchService {
  private readonly inflight = new Map<string, Promise<ItemRow>>();
  /** Until when (epoch ms) each remote is assumed offline after a network failure. */
  private readonly offlineUntil = new Map<string, number>();
  /** The last failure of each remote's upstream seen by this process (for the administration page). */
  private readonly lastFailure = new Map<string, { at: number; message: string }>();
  /** When each remote's upstream last answered (any HTTP answer). */
  private readonly lastSuccess = new Map<string, number>();

  private readonly network: UpstreamNetwork;

  constructor(private readonly deps: RemoteFetchDeps) {
    this.network = deps.network ?? new UpstreamNetwork();
  }

  settings(repo: RepoConfig): RemoteSettings {
    return remoteSettingsOf(repo, this.deps.masterKey, this.network);
  }

  /** What this process knows of a remote's upstream: assumed offline until when, and its last failure. */
  status(repo: RepoConfig): RemoteStatus {
    const until = this.offlineUntil.get(repo.key) ?? 0;
    const failure = this.lastFailure.get(repo.key);
    const offline = repo.offline === true;
    const assumedOffline = until > this.deps.clock.now();
    return {
      upstream: upstreamOrigin(String(repo.url ?? '')),
      state: offline ? 'offline' : assumedOffline ? 'assumed-offline' : failure && failure.at >= (this.lastSuccess.get(repo.key) ?? 0) ? 'failing' : this.lastSuccess.has(repo.key) ? 'online' : 'unknown',
      ...(assumedOffline ? { assumedOfflineUntil: new Date(until).toISOString() } : {}),
      ...(failure ? { lastError: failure.message, lastErrorAt: new Date(failure.at).toISOString() } : {}),
    };
  }

  /**
   * Asks the upstream for its root (a HEAD, then a GET when HEAD is not allowed) with the
   * remote's credentials, waiting at most `timeoutMs`. Reports what happened; the answer names
   * the upstream without credentials or query. A success clears the assumed-offline period.
   */
  async testConnection(repo: RepoConfig, timeoutMs: number): Promise<ConnectionTest> {
    const base = this.settings(repo);
    const settings = { ...base, socketTimeoutMillis: Math.min(timeoutMs, base.socketTimeoutMillis) };
    const url = upstreamOrigin(settings.url);
    const started = Date.now();
    const done = (ok: boolean, message: string, status?: number): ConnectionTest => ({ ok, url, message, elapsedMs: Date.now() - started, ...(status === undefined ? {} : { status }) });
    try {
      let res = await upstreamRequest(settings, '', { method: 'HEAD' });
      res.cancel();
      if (res.status === 405 || res.status === 501) {
        res = await upstreamRequest(settings, '');
        res.cancel();
      }
      if (res.status === 401 || res.status === 403) return done(false, `The upstream refused the credentials (HTTP ${res.status})`, res.status);
      if (upstreamFailing(res.status)) return done(false, `The upstream answered HTTP ${res.status}`, res.status);
      this.offlineUntil.delete(repo.key);
      this.lastSuccess.set(repo.key, this.deps.clock.now());
      return done(true, `Connected: the upstream answered HTTP ${res.status}`, res.status);
    } catch (err) {
      if (!(err instanceof UpstreamUnreachable)) throw err;
      this.lastFailure.set(repo.key, { at: this.deps.clock.now(), message: err.message });
      return done(false, err.message);
    }
  }

  /** The cached copy of a path, whatever its age; undefined when there is none. */
  async cached(repo: RepoConfig, path: string): Promise<ItemRow | undefined> {
    const row = await findItem(this.deps.database, repo.key, path);
    return row?.type === 'file' ? row : undefined;
  }

  /**
   * The file at `path` of a remote repository: the cached copy when fresh, else fetched.
   * Throws ITEM_NOT_FOUND when neither the cache nor the upstream has it, UPSTREAM_FAILED
   * when the upstream fails and nothing is cached.
   */
  fetch(repo: RepoConfig, path: string, options: RemoteFetchOptions = {}): Promise<ItemRow> {
    if (repo.rclass !== 'remote') throw new ArcaError('BAD_REQUEST', `Repository '${repo.key}' is not a remote repository`);
    if (options.cacheOnly) return this.resolve(repo, path, options);
    const key = `${repo.key}\u0000${path}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.resolve(repo, path, options).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** Passes one request through to the upstream with the remote's credentials (npm audit, say). */
  forward(repo: RepoConfig, upstreamPath: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string }): Promise<UpstreamResponse> {
    const settings = this.settings(repo);
    if (settings.offline) throw new ArcaError('UPSTREAM_FAILED', `Remote repository '${repo.key}' is offline`);
    return upstreamRequest(settings, upstreamPath, init).catch((err) => {
      if (err instanceof UpstreamUnreachable) throw new ArcaError('UPSTREAM_FAILED', err.message);
      throw err;
    });
  }

  private kindOf(repo: RepoConfig, path: string, options: RemoteFetchOptions): PathKind {
    const kind = options.kind ?? this.deps.formats.handlerFor(repo.packageType).classify(path);
    return kind === 'checksum' ? 'artifact' : kind;
  }

  private async resolve(repo: RepoConfig, path: string, options: RemoteFetchOptions): Promise<ItemRow> {
    const now = this.deps.clock.now();
    const settings = this.settings(repo);
    const row = await this.cached(repo, path);
    const record = await getCacheRecord(this.deps.database, repo.key, path);
    const kind = this.kindOf(repo, path, options);
    const notFound = () => new ArcaError('ITEM_NOT_FOUND', `Could not find resource '${repo.key}/${path}'`);

    if (settings.offline) {
      if (row) return row;
      throw notFound();
    }
    if (row) {
      const checked = record?.status === 'found' ? record.checked : row.updated;
      if (kind === 'artifact' || now - checked < settings.retrievalCachePeriodSecs * 1000) return row;
    } else if (record?.status === 'missing' && now - record.checked < settings.missedRetrievalCachePeriodSecs * 1000) {
      throw notFound();
    }
    if (options.cacheOnly) {
      if (row && (this.offlineUntil.get(repo.key) ?? 0) > now) return row;
      throw notFound();
    }
    if ((this.offlineUntil.get(repo.key) ?? 0) > now) {
      if (row) return row;
      throw new ArcaError('UPSTREAM_FAILED', `Remote repository '${repo.key}' is assumed offline after a failure; try again later`);
    }

    const upstreamPath = options.upstreamPath ?? encodePath(path);
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (row && record?.status === 'found') {
      if (record.etag) headers['if-none-match'] = record.etag;
      else if (record.last_modified) headers['if-modified-since'] = record.last_modified;
    }
    const checksumFile = kind === 'artifact' && this.deps.formats.handlerFor(repo.packageType).checksumTarget !== undefined;
    let res: UpstreamResponse;
    const sidecar = checksumFile ? this.sidecarSha1(settings, upstreamPath) : undefined;
    try {
      res = await upstreamRequest(settings, upstreamPath, { headers });
    } catch (err) {
      if (!(err instanceof UpstreamUnreachable)) throw err;
      // A refused address is the configuration's doing, not a network failure: no offline period.
      if (!(err instanceof UpstreamRefused)) this.offlineUntil.set(repo.key, now + settings.assumedOfflinePeriodSecs * 1000);
      this.lastFailure.set(repo.key, { at: now, message: err.message });
      if (row) return row;
      throw new ArcaError('UPSTREAM_FAILED', err.message);
    }
    this.offlineUntil.delete(repo.key);
    this.lastSuccess.set(repo.key, now);

    if (res.status === 304 && row) {
      res.cancel();
      await touchCacheRecord(this.deps.database, repo.key, path, now);
      return row;
    }
    // Redirected to a folder URL: the path is a folder upstream, not a file to cache.
    const folderUpstream = res.status === 200 && res.redirected && new URL(res.url).pathname.endsWith('/');
    if (res.status === 404 || res.status === 410 || folderUpstream) {
      res.cancel();
      if (row) return row;
      await putCacheRecord(this.deps.database.db, { repo: repo.key, path, status: 'missing', checked: now, etag: null, last_modified: null, upstream_url: res.url });
      throw notFound();
    }
    if (res.status !== 200) {
      // The upstream's body is never quoted: it would reach every caller, and it is the upstream's text.
      res.cancel();
      if (row) return row;
      const why = upstreamFailing(res.status) ? 'failed' : 'refused the request';
      const message = `Upstream ${upstreamOrigin(res.url)} ${why} with HTTP ${res.status}`;
      this.lastFailure.set(repo.key, { at: now, message });
      throw new ArcaError('UPSTREAM_FAILED', message);
    }
    try {
      return await this.store(repo, path, res, sidecar, options.user ?? 'anonymous', now);
    } catch (err) {
      if (err instanceof UpstreamUnreachable) {
        if (row) return row;
        throw new ArcaError('UPSTREAM_FAILED', err.message);
      }
      throw err;
    }
  }

  /** The upstream's `.sha1` file for a path, when it offers one (undefined otherwise). */
  private async sidecarSha1(settings: RemoteSettings, upstreamPath: string): Promise<string | undefined> {
    try {
      const res = await upstreamRequest(settings, `${upstreamPath}.sha1`);
      if (res.status !== 200) {
        res.cancel();
        return undefined;
      }
      const m = /^\s*([0-9a-fA-F]{40})\b/.exec((await readSmall(res, 4096)).toString('utf8'));
      return m ? m[1].toLowerCase() : undefined;
    } catch {
      return undefined;
    }
  }

  private async store(
    repo: RepoConfig,
    path: string,
    res: UpstreamResponse,
    sidecar: Promise<string | undefined> | undefined,
    user: string,
    now: number,
  ): Promise<ItemRow> {
    const staged = await this.deps.content.stage(res.body);
    const declared = res.headers.get('x-checksum-sha1')?.trim().toLowerCase() || (await sidecar);
    if (declared && declared !== staged.sha1) {
      await staged.discard();
      throw new ArcaError('UPSTREAM_FAILED', `Checksum mismatch for '${repo.key}/${path}' from ${upstreamOrigin(res.url)}: the upstream declares sha1 ${declared}, the content is ${staged.sha1}`);
    }
    const lastModified = res.headers.get('last-modified');
    const modified = lastModified && !Number.isNaN(Date.parse(lastModified)) ? Date.parse(lastModified) : now;
    const record: Omit<RemoteCacheRecord, 'path_key'> = {
      repo: repo.key,
      path,
      status: 'found',
      checked: now,
      etag: res.headers.get('etag'),
      last_modified: lastModified,
      upstream_url: res.url,
    };
    try {
      return await this.deps.content.commit(staged, async (trx) => {
        await ensureFolders(trx, repo.key, path, user, now);
        const { row } = await putFile(trx, {
          repo: repo.key,
          fullPath: path,
          binary: staged,
          original: declared ? { sha1: declared } : {},
          mimeType: mimeTypeOf(path),
          user,
          now,
        });
        await trx.updateTable('items').set({ modified }).where('id', '=', row.id).execute();
        await putCacheRecord(trx, record);
        return { ...row, modified };
      }).then((row) => {
        this.deps.downloadStats?.recordRemote(Number(row.id));
        return row;
      });
    } catch (err) {
      if (err instanceof FolderConflict) throw new ArcaError('CONFLICT', err.message);
      throw err;
    }
  }
}
