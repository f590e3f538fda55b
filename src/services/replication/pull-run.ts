import type { Database } from '../../db/database.js';
import { findItem, fullPathOf } from '../../db/items.js';
import { descendantPages } from '../../db/tree.js';
import type { RemoteFetchService } from '../remote-fetch.js';
import type { UpstreamNetwork } from '../remote/guarded-http.js';
import type { RepoConfig } from '../repositories.js';
import { Pool } from './push-run.js';
import type { PullReplication } from './replication-config.js';
import { ScratchList } from './scratch-list.js';
import { pathIncluded } from './source.js';
import { WireClient } from './wire-client.js';

export interface PullCounts {
  listed: number;
  cached: number;
  unchanged: number;
  removed: number;
  errors: number;
}

export interface PullDeps {
  database: Database;
  remote: RemoteFetchService;
  network: UpstreamNetwork;
  /** Deletes a cached item (the artifact service's delete). */
  remove(repo: string, path: string): Promise<unknown>;
}

/**
 * A pull run of a remote repository (issue 16, item 4): lists the remote's upstream when it
 * is an Arca or Artifactory repository URL (its deep storage file list, streamed into a
 * scratch database on disk) and caches each listed file the cache lacks, or holds with another
 * checksum, through the remote's own fetch path (the same checksum checks, cache records and
 * address policy as a client's request), `parallel` at a time, so the remote is pre-warmed.
 * With `syncDeletes`, cached files the upstream no longer lists are removed.
 */
export async function pullRun(deps: PullDeps, repo: RepoConfig, config: PullReplication, options: { scratchDir: string; parallel?: number; signal?: AbortSignal; onError?(path: string, err: Error): void }): Promise<PullCounts> {
  const counts: PullCounts = { listed: 0, cached: 0, unchanged: 0, removed: 0, errors: 0 };
  const settings = deps.remote.settings(repo);
  if (settings.offline) throw new Error(`Remote repository '${repo.key}' is offline`);
  // The settings' password is in clear already; the client takes it as it is stored.
  const client = new WireClient(
    { url: settings.url, username: settings.username, password: settings.password, socketTimeoutMillis: settings.socketTimeoutMillis, syncProperties: false },
    deps.network,
    Buffer.alloc(0),
    { read: () => Promise.reject(new Error('a pull sends no content')) },
  );
  const scratch = new ScratchList(options.scratchDir);
  try {
    counts.listed = await scratch.load(client.list(options.signal));
    const pool = new Pool(options.parallel ?? 8);
    // The listed files in path order, a page at a time; each is looked up in the cache by its key.
    for (const page of scratch.pages()) {
      for (const upstream of page) {
        const path = upstream.path;
        options.signal?.throwIfAborted();
        if (!pathIncluded(path, { pathPrefix: config.pathPrefix })) continue;
        const cached = await findItem(deps.database, repo.key, path);
        if (cached?.type === 'file' && (!upstream.sha1 || upstream.sha1 === cached.sha1)) {
          counts.unchanged++;
          continue;
        }
        await pool.add(async () => {
          try {
            // A cached artifact is kept as it is; one the upstream changed is removed, then fetched again.
            if (cached?.type === 'file') await deps.remove(repo.key, path);
            await deps.remote.fetch(repo, path, { user: '_replication' });
            counts.cached++;
          } catch (err) {
            counts.errors++;
            options.onError?.(path, err as Error);
          }
        });
      }
    }
    await pool.drain();
    if (config.syncDeletes) {
      for await (const page of descendantPages(deps.database.db, repo.key, '')) {
        for (const row of page) {
          const path = fullPathOf(row);
          if (row.type !== 'file' || !pathIncluded(path, { pathPrefix: config.pathPrefix }) || scratch.has(path)) continue;
          try {
            await deps.remove(repo.key, path);
            counts.removed++;
          } catch (err) {
            counts.errors++;
            options.onError?.(path, err as Error);
          }
        }
      }
    }
    return counts;
  } finally {
    scratch.close();
  }
}
