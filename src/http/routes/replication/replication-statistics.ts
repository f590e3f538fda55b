import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { normalizeRelPath } from '../../../core/paths.js';
import type { AppContext } from '../../app-context.js';

/** Items per request. */
export const MAX_STATISTICS_ITEMS = 1000;

interface SentStatistics {
  path: string;
  downloadCount: number;
  lastDownloaded: number;
}

function entryOf(v: unknown, i: number): SentStatistics {
  const e = v as Partial<Record<keyof SentStatistics, unknown>> | null;
  const at = `'items[${i}]'`;
  if (!e || typeof e !== 'object') throw new ArcaError('BAD_REQUEST', `${at} must be an object {"path", "downloadCount", "lastDownloaded"}`);
  if (typeof e.path !== 'string' || e.path === '' || e.path.length > 4096) throw new ArcaError('BAD_REQUEST', `${at}.path must be a path in the repository`);
  for (const k of ['downloadCount', 'lastDownloaded'] as const) {
    const n = e[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ArcaError('BAD_REQUEST', `${at}.${k} must be a whole number ≥ 0`);
  }
  return { path: e.path, downloadCount: e.downloadCount as number, lastDownloaded: e.lastDownloaded as number };
}

/**
 * `POST /api/replication/statistics/{repoKey}` `{"items":[{"path","downloadCount","lastDownloaded"}]}`
 * → `{"applied","missing","refused"}`: a push replication with `syncStatistics` sends the
 * source's download statistics of files it replicated, and this site keeps them as those
 * items' remote statistics (`remoteDownloadCount`, `remoteLastDownloaded` of the storage API's
 * `?stats`), never lowering what it holds. An Arca extension. The caller needs deploy
 * permission on each path (the replication user has it); other paths are counted as refused,
 * paths with no file here as missing.
 */
export function replicationStatisticsRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Params: { repoKey: string }; Body: unknown }>(
    '/artifactory/api/replication/statistics/:repoKey',
    { config: { access: 'authenticated' }, bodyLimit: 256 * 1024 },
    async (request) => {
      const repo = await ctx.repos.get(request.params.repoKey);
      if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${request.params.repoKey}' not found`);
      if (repo.rclass !== 'local') throw new ArcaError('BAD_REQUEST', `Statistics are replicated to local repositories; '${repo.key}' is ${repo.rclass}`);
      const body = request.body as { items?: unknown } | null;
      const list = body && typeof body === 'object' ? body.items : undefined;
      if (!Array.isArray(list)) throw new ArcaError('BAD_REQUEST', 'Send {"items": [{"path", "downloadCount", "lastDownloaded"}, …]}: \'items\' must be an array');
      if (list.length > MAX_STATISTICS_ITEMS) throw new ArcaError('BAD_REQUEST', `'items': at most ${MAX_STATISTICS_ITEMS} per request`);
      const entries = list.map(entryOf);
      let refused = 0;
      const allowed: { path: string; downloads: number; lastDownloaded: number }[] = [];
      for (const e of entries) {
        const path = normalizeRelPath(e.path);
        if (await request.access.can('write', repo, path)) allowed.push({ path, downloads: e.downloadCount, lastDownloaded: e.lastDownloaded });
        else refused++;
      }
      const { applied, missing } = await ctx.downloadStats.mergeRemote(repo.key, allowed);
      return { applied, missing, refused };
    },
  );
}
