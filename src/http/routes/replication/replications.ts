import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';
import { replicationBinariesRoute } from './replication-binaries.js';
import { replicationStatisticsRoute } from './replication-statistics.js';
import { shownPush, type PullReplication, type PushReplication } from '../../../services/replication/replication-config.js';
import type { RunRecord } from '../../../services/replication/replication-store.js';

/** Administrators only, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
type Key = { Params: { repoKey: string } };

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

function flag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return true;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ArcaError('BAD_REQUEST', `Query parameter '${name}' must be true or false`, { field: name });
}

/** The run record as the seed shows a status: `never_run` until the runner records a run. */
function shownRun(run: RunRecord | null): { status: string; lastCompleted: string | null } {
  return { status: run?.status ?? 'never_run', lastCompleted: iso(run?.lastCompleted) };
}

/** Arca's detail of the last run: when it started, what it did, why it failed, the target's site id. */
function runDetail(run: RunRecord | null) {
  return { lastStarted: iso(run?.started), result: run?.counts ?? null, message: run?.message ?? null, siteId: run?.siteId ?? null };
}

/**
 * The seed's replication API (REST-API.md §12): configuration under `/api/replications`, status,
 * run requests and the block switches under `/api/replication`. Everything is for
 * administrators, as in the seed. An execute request is recorded and answered 202; the
 * `replication` cluster task starts the run at its next tick (docs/replication.md).
 */
export async function replicationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const svc = ctx.replications;
  replicationBinariesRoute(app, ctx);
  replicationStatisticsRoute(app, ctx);

  app.get('/artifactory/api/replications', async (request) => {
    await requireAdmin(ctx, request);
    return (await svc.rows()).map((r) =>
      r.kind === 'push' ? { ...shownPush(r.config as PushReplication), replicationType: 'PUSH' } : { ...(r.config as PullReplication), replicationType: 'PULL' },
    );
  });

  // A local repository's push targets are always an array (the JFrog client reads an array
  // even for one target); a remote's pull is one object.
  app.get<Key>('/artifactory/api/replications/:repoKey', async (request) => {
    await requireAdmin(ctx, request);
    const { repoKey } = request.params;
    await svc.kindOf(repoKey);
    const r = await svc.get(repoKey);
    if (!r) throw new ArcaError('NOT_FOUND', `No replication is configured for repository '${repoKey}'`);
    return r.kind === 'push' ? r.targets.map(shownPush) : r.pull;
  });

  app.put<Key>('/artifactory/api/replications/:repoKey', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await svc.put(request.params.repoKey, request.body);
    return reply.code(201).send();
  });

  app.post<Key>('/artifactory/api/replications/:repoKey', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await svc.update(request.params.repoKey, request.body);
    return reply.code(200).send();
  });

  app.delete<Key & { Querystring: { url?: string } }>('/artifactory/api/replications/:repoKey', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const { repoKey } = request.params;
    const url = request.query.url;
    if (!(await svc.delete(repoKey, url === '' ? undefined : url))) {
      throw new ArcaError('NOT_FOUND', url ? `Repository '${repoKey}' has no replication to '${url}'` : `No replication is configured for repository '${repoKey}'`);
    }
    return reply.code(200).send();
  });

  app.put<Key>('/artifactory/api/replications/multiple/:repoKey', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await svc.putMultiple(request.params.repoKey, request.body, true);
    return reply.code(201).send();
  });

  app.post<Key>('/artifactory/api/replications/multiple/:repoKey', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await svc.putMultiple(request.params.repoKey, request.body, false);
    return reply.code(200).send();
  });

  app.get<Key>('/artifactory/api/replication/:repoKey', async (request) => {
    await requireAdmin(ctx, request);
    const { repoKey } = request.params;
    const kind = await svc.kindOf(repoKey);
    const rows = await svc.rows(repoKey);
    const targets = await Promise.all(
      rows
        .filter((r) => r.kind === 'push')
        .map(async (r) => {
          const config = r.config as PushReplication;
          const d = await ctx.replicationRunner.depth(repoKey, config.url);
          const queue = { pending: d.pending, failed: d.failed, lagSeconds: d.lagMs / 1000, oldestPending: iso(d.oldestPending) };
          return { url: config.url, repoKey, ...shownRun(r.lastRun), ...runDetail(r.lastRun), eventReplication: config.enableEventReplication && config.enabled, queue };
        }),
    );
    const runs = rows.map((r) => shownRun(r.lastRun));
    const completed = runs.map((r) => r.lastCompleted).filter((t): t is string => t !== null).sort();
    const status = runs.length === 0 || runs.every((r) => r.status === 'never_run') ? 'never_run' : runs.find((r) => r.status !== 'ok')?.status ?? 'ok';
    const lastCompleted = completed.at(-1) ?? null;
    const requested = rows.map((r) => r.requestedAt).filter((t): t is number => t !== null);
    return {
      status,
      lastCompleted,
      targets,
      repositories: { [repoKey]: { status, lastCompleted } },
      // Arca's own fields: the switch that holds this kind back, and the last run request.
      blocked: (await svc.blocked())[kind],
      runRequested: requested.length ? iso(Math.max(...requested)) : null,
      ...(kind === 'pull' && rows[0] ? runDetail(rows[0].lastRun) : {}),
    };
  });

  app.post<Key>('/artifactory/api/replication/execute/:repoKey', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const n = await svc.requestRun(request.params.repoKey);
    const blocked = await svc.blocked();
    const kind = await svc.kindOf(request.params.repoKey);
    const note = blocked[kind] ? `; ${kind} replication is blocked, so it starts once unblocked` : '';
    // A tick of the replication task now (one queued tick at most; a running one is followed by the next).
    try {
      if ((await ctx.tasks.runs({ task: 'replication', status: 'QUEUED', limit: 1 })).length === 0) await ctx.tasks.request('replication', undefined, request.principal?.name ?? null);
    } catch (err) {
      request.log.warn({ err }, 'replication: could not start the replication task now; its next tick starts the run');
    }
    return reply.code(202).send({ message: `A replication run of '${request.params.repoKey}' to ${n} target(s) is requested; it starts within arca.replication.checkIntervalSecs${note}` });
  });

  for (const [action, blocked] of [['block', true], ['unblock', false]] as const) {
    for (const path of [`/artifactory/api/replication/${action}`, `/artifactory/api/system/replications/${action}`]) {
      app.post<{ Querystring: { push?: string; pull?: string } }>(path, ADMIN, async (request) => {
        await requireAdmin(ctx, request);
        const which = { push: flag(request.query.push, 'push'), pull: flag(request.query.pull, 'pull') };
        return { blocked: await svc.setBlocked(which, blocked) };
      });
    }
  }
}
