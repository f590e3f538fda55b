import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Checksums } from '../../../core/digests.js';
import type { RepoPath } from '../../../core/paths.js';
import { deployedFileJson, deployedFolderJson } from '../../../services/item-info.js';
import { exactPropertiesOf, ORIGIN_HEADER, originOf, PROPERTIES_HEADER, SITE_ID_HEADER } from '../../../services/replication/replication-apply.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl, intentOf } from '../../auth.js';
import { header } from './artifacts-serve.js';

const ITEM_CREATED = 'application/vnd.org.jfrog.artifactory.storage.ItemCreated+json';

/** True for a deploy or delete that another site's replication sends (X-Arca-Replication-Origin). */
export function isReplicationApply(request: FastifyRequest): boolean {
  return header(request, ORIGIN_HEADER) !== undefined;
}

/** Checks the replication headers from the URL and headers alone (a 400 before anything else). */
export function checkReplicationHeaders(request: FastifyRequest): void {
  if (!isReplicationApply(request)) return;
  originOf(header(request, ORIGIN_HEADER));
  exactPropertiesOf(header(request, PROPERTIES_HEADER));
}

/**
 * Answers every response to a replication apply, refusals included, with this site's id
 * (X-Arca-Site-Id), so the sender learns whom it talks to.
 */
export function addSiteIdHeader(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if ((request.method === 'PUT' || request.method === 'DELETE') && isReplicationApply(request)) {
      const id = await ctx.replicationApply.ownSiteId().catch(() => undefined);
      if (id) reply.header(SITE_ID_HEADER, id);
    }
    return payload;
  });
}

const json = (reply: FastifyReply, status: number, body: unknown) =>
  reply.code(status).header('Content-Type', 'application/json').send(Buffer.from(JSON.stringify(body)));

/**
 * PUT with X-Arca-Replication-Origin (docs/replication.md, "On the target"): write permission was
 * checked before the body (route-access); a loop answers 200 at once; an identical item 200 with
 * nothing written; a stored one 201 as a deploy does.
 */
export async function applyReplicatedPut(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  rp: RepoPath,
  signal: AbortSignal,
  expected: Partial<Checksums>,
) {
  const access = request.access;
  const repo = await ctx.serve.deployTarget(access, rp.repoKey);
  const outcome = await ctx.replicationApply.put({
    repo,
    path: rp.path,
    folder: rp.folder,
    body: request.raw,
    signal,
    expected,
    checksumDeploy: /^true$/i.test(header(request, 'x-checksum-deploy') ?? ''),
    matrix: rp.matrix,
    exact: exactPropertiesOf(header(request, PROPERTIES_HEADER)),
    access,
    origin: originOf(header(request, ORIGIN_HEADER)),
  });
  if (outcome.kind === 'loop') return json(reply, 200, { replication: 'loop', message: 'The change came from this site: nothing was done' });
  const base = await baseUrl(ctx, request);
  if (outcome.item.type === 'folder') {
    const body = deployedFolderJson(base, outcome.item);
    return reply.code(outcome.kind === 'unchanged' ? 200 : 201).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
  }
  const body = deployedFileJson(base, outcome.item);
  return reply
    .code(outcome.kind === 'unchanged' ? 200 : 201)
    .header('Location', body.downloadUri)
    .header('Content-Type', ITEM_CREATED)
    .send(Buffer.from(JSON.stringify(body)));
}

/** DELETE with X-Arca-Replication-Origin: 204 when deleted, 200 for a loop, 404 when nothing was there. */
export async function applyReplicatedDelete(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, rp: RepoPath) {
  const { repo } = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  const done = await ctx.replicationApply.delete(repo, rp.path, request.access, originOf(header(request, ORIGIN_HEADER)));
  if (!done) return json(reply, 200, { replication: 'loop', message: 'The change came from this site: nothing was done' });
  return reply.code(204).send();
}
