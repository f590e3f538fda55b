import { isAbsolute } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TaskRun } from '../../../cluster/tasks/types.js';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';

/** Runs are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'ABANDONED']);
/** How long the JFrog-style export and import calls wait for their run by default. */
const SYNC_WAIT_SECS = 3600;

function seconds(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new ArcaError('BAD_REQUEST', `'wait' is a number of seconds from 0 to 86400, got '${String(raw)}'`);
  return n;
}

function runPath(run: TaskRun): string {
  return `/artifactory/api/system/tasks/runs/${run.id}`;
}

/** 200 with the run once it has finished, else 202 with the run as it is and where to follow it. */
function sendRun(reply: FastifyReply, run: TaskRun) {
  if (FINAL.has(run.status)) return reply.code(200).send(run);
  return reply.code(202).header('Location', runPath(run)).send(run);
}

async function requestAndWait(ctx: AppContext, request: FastifyRequest, task: string, body: unknown, waitSecs: number): Promise<TaskRun> {
  const requested = await ctx.tasks.request(task, body, request.principal?.name ?? null);
  return waitSecs > 0 ? ctx.tasks.wait(requested, waitSecs * 1000) : requested.run;
}

/**
 * Cluster-wide tasks (docs/ha.md): the registered tasks with their schedules and last runs,
 * the run history, runs on demand, and the JFrog-style full system export and import.
 */
export async function taskRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/artifactory/api/system/tasks', async (request) => {
    await requireAdmin(ctx, request);
    const [eligibility, tasks] = await Promise.all([ctx.tasks.eligibility(), ctx.tasks.list()]);
    return { node: { id: ctx.node.nodeId, ...eligibility }, tasks };
  });

  app.get<{ Querystring: { task?: string; status?: string; limit?: string } }>('/artifactory/api/system/tasks/runs', async (request) => {
    await requireAdmin(ctx, request);
    const { task, status } = request.query;
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ArcaError('BAD_REQUEST', `'limit' is a whole number from 1 to 1000`);
    if (task !== undefined) ctx.tasks.get(task);
    return { runs: await ctx.tasks.runs({ task, status: status?.toUpperCase(), limit }) };
  });

  app.get<{ Params: { id: string } }>('/artifactory/api/system/tasks/runs/:id', async (request) => {
    await requireAdmin(ctx, request);
    return ctx.tasks.run(request.params.id);
  });

  app.post<{ Params: { name: string }; Querystring: { wait?: string } }>('/artifactory/api/system/tasks/:name/run', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const run = await requestAndWait(ctx, request, request.params.name, request.body, seconds(request.query.wait, 0));
    return sendRun(reply, run);
  });

  // JFrog's Full System Export / Import: synchronous (up to `wait` seconds), text answers.
  const sync = (task: 'backup' | 'import', field: 'exportPath' | 'importPath') =>
    async (request: FastifyRequest<{ Querystring: { wait?: string } }>, reply: FastifyReply) => {
      await requireAdmin(ctx, request);
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw new ArcaError('BAD_REQUEST', `Send a JSON object with '${field}'`);
      const path = body[field];
      if (task === 'import' && (typeof path !== 'string' || path === '')) throw new ArcaError('BAD_REQUEST', `'${field}' is required`);
      if (path !== undefined && (typeof path !== 'string' || !isAbsolute(path))) throw new ArcaError('BAD_REQUEST', `'${field}' must be an absolute path`);
      const params = task === 'backup' ? { dir: path } : { path };
      const run = await requestAndWait(ctx, request, task, params, seconds(request.query.wait, SYNC_WAIT_SECS));
      if (!FINAL.has(run.status)) return sendRun(reply, run);
      if (run.status !== 'SUCCEEDED') throw new ArcaError('CONFLICT', `${task === 'backup' ? 'Export' : 'Import'} failed (run ${run.id}): ${run.error ?? run.status}`);
      const where = String(run.result?.path ?? path ?? '');
      return reply.type('text/plain').send(task === 'backup' ? `Exported the system to ${where}\n` : `Imported the system from ${where}\n`);
    };
  app.post('/artifactory/api/export/system', ADMIN, sync('backup', 'exportPath'));
  app.post('/artifactory/api/import/system', ADMIN, sync('import', 'importPath'));
}
