import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../../http/app-context.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { SYSTEM_ACCESS } from '../../../security/access.js';
import { MultipartReader, multipartBoundary } from '../multipart.js';
import { receiveLegacyUpload } from '../upload.js';
import type { PypiService } from '../service/pypi-service.js';

/**
 * `POST /artifactory/api/pypi/{repoKey}`: the legacy upload API (twine's multipart form).
 * The file streams into the content store; every check of the form runs before the upload
 * commits, so a refused upload leaves nothing behind. A wheel's METADATA is stored beside
 * it as `{file}.metadata` (PEP 658). A virtual repository uploads to its
 * defaultDeploymentRepo; a remote repository is read-only.
 */
export async function pypiUpload(ctx: AppContext, pypi: PypiService, request: FastifyRequest, reply: FastifyReply, addressed: RepoConfig, cacheOnly: boolean) {
  const svc = ctx.packages;
  const repo = await pypi.uploadTarget(addressed, cacheOnly);
  const boundary = multipartBoundary(request.headers['content-type']);
  if (!boundary) throw new ArcaError('BAD_REQUEST', 'An upload must be a multipart/form-data POST with a boundary (the legacy upload API, as twine sends it)');
  const principal = request.principal;
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  try {
    const { target } = await receiveLegacyUpload(new MultipartReader(request.raw, boundary), async (target, body) => {
      return svc.deploy.deploy({
        repo,
        path: target.path,
        folder: false,
        body,
        signal: abort.signal,
        // Both are complete once the body has ended, before the deploy compares or stores them.
        expected: target.expected,
        properties: target.properties,
        checksumDeploy: false,
        user: principal.name,
        access: request.access,
      });
    });
    if (target.metadata) {
      await svc.deploy.deploy({
        repo,
        path: `${target.path}.metadata`,
        folder: false,
        body: Readable.from([target.metadata]),
        expected: {},
        properties: {},
        checksumDeploy: false,
        user: principal.name,
        // Derived from the upload just allowed: written on the node's own account.
        access: SYSTEM_ACCESS,
      });
    }
  } catch (err) {
    if (isArcaError(err, 'CHECKSUM_MISMATCH')) throw new ArcaError('BAD_REQUEST', `The file does not match the digest sent with it: ${err.message}`);
    if (abort.signal.aborted && !(err instanceof ArcaError && err.code !== 'UPLOAD_ABORTED')) {
      throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the upload; nothing was stored');
    }
    throw err;
  }
  return reply.code(200).type('text/plain; charset=utf-8').send('OK\n');
}
