/** Blob endpoints of the registry API: pull (HEAD/GET with ranges), delete, uploads and mounts. */
import { blobLinkPath, uploadFolder } from '../layout.js';
import { OciError } from '../oci-errors.js';
import { isValidName, parseDigest, splitName, type Digest } from '../reference.js';
import type { UploadRef } from '../service/uploads.js';
import { serveFile } from '../../../http/routes/artifacts-serve.js';
import { hasBody, header, need, urlOf, uploadSignal, type OciCall } from './oci-call.js';

function blobUnknown(call: OciCall, d: Digest): OciError {
  return new OciError('BLOB_UNKNOWN', `Blob ${d.text} is not in '${call.name}'`, { detail: { digest: d.text } });
}

export async function getBlob(call: OciCall, digest: string, head: boolean) {
  const d = parseDigest(digest);
  await need(call, 'read', blobLinkPath(call.image, d));
  // A manifest can be fetched through the blob endpoint too (as the CNCF registry allows).
  const item = (await call.reg.blobs.find(call.repo.key, call.image, d)) ?? (await call.reg.manifests.findByDigest(call.repo.key, call.image, d));
  if (!item) throw blobUnknown(call, d);
  call.reply.header('Docker-Content-Digest', d.text);
  return serveFile(call.ctx, call.request, call.reply, item, head);
}

export async function deleteBlob(call: OciCall, digest: string) {
  const d = parseDigest(digest);
  await need(call, 'delete', blobLinkPath(call.image, d));
  if (!(await call.reg.blobs.delete(call.repo.key, call.image, d))) throw blobUnknown(call, d);
  return call.reply.code(202).header('Docker-Content-Digest', d.text).header('Content-Length', '0').send();
}

function created(call: OciCall, d: Digest) {
  return call.reply.code(201).header('Location', urlOf(call, `blobs/${d.text}`)).header('Docker-Content-Digest', d.text).header('Content-Length', '0').send();
}

function uploadHeaders(call: OciCall, uuid: string, offset: number) {
  return call.reply
    .header('Location', urlOf(call, `blobs/uploads/${uuid}`))
    .header('Range', `0-${Math.max(offset - 1, 0)}`)
    .header('Docker-Upload-UUID', uuid)
    .header('Content-Length', '0');
}

/** Where a mount's `from` points: another image of this registry the caller may read. */
async function mountSource(call: OciCall, from: string): Promise<{ repo: string; image: string } | undefined> {
  let repoKey = call.repo.key;
  let image = from;
  if (call.prefix === '') {
    try {
      ({ repoKey, image } = splitName(from));
    } catch {
      return undefined;
    }
  }
  if (!isValidName(image)) return undefined;
  const repo = await call.ctx.repos.get(repoKey);
  if (!repo || repo.rclass !== 'local' || !['docker', 'oci'].includes(repo.packageType)) return undefined;
  if (!(await call.ctx.security.canAccess(call.request.principal, 'read', repo, image))) return undefined;
  return { repo: repo.key, image };
}

/** POST `blobs/uploads/`: a mount (`?mount=&from=`), a monolithic upload (`?digest=`), or a new session. */
export async function startUpload(call: OciCall) {
  const { reg, repo, image, request } = call;
  const user = request.principal.name;
  await need(call, 'write', `${image}/_uploads`);
  const mount = call.query.get('mount');
  const from = call.query.get('from');
  if (mount !== null && from !== null) {
    const d = parseDigest(mount);
    const source = await mountSource(call, from);
    if (source && (await reg.blobs.mount(source, { repo: repo.key, image }, d, user))) return created(call, d);
  }
  const digest = call.query.get('digest');
  if (digest !== null) {
    const d = parseDigest(digest);
    await reg.uploads.monolithic(repo.key, image, d, request.raw, { user, signal: uploadSignal(request) });
    return created(call, d);
  }
  const u = await reg.uploads.start(repo.key, image, user);
  return uploadHeaders(call, u.uuid, 0).code(202).send();
}

function parseContentRange(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new OciError('BLOB_UPLOAD_INVALID', `Content-Range '${value}' is not '<start>-<end>'`, { code: 'RANGE_NOT_SATISFIABLE' });
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

async function session(call: OciCall, uuid: string, action: 'write' | 'read' | 'delete'): Promise<UploadRef> {
  await need(call, action === 'read' ? 'write' : action, uploadFolder(call.image, uuid));
  return { repo: call.repo.key, image: call.image, uuid };
}

/** PATCH, PUT, GET and DELETE of an upload session. */
export async function uploadSession(call: OciCall, uuid: string, method: string) {
  const { reg, request } = call;
  const user = request.principal.name;
  if (method === 'GET') {
    const u = await session(call, uuid, 'read');
    const { offset } = await reg.uploads.status(u);
    return uploadHeaders(call, uuid, offset).code(204).send();
  }
  if (method === 'DELETE') {
    const u = await session(call, uuid, 'write');
    await reg.uploads.cancel(u);
    return call.reply.code(204).send();
  }
  if (method === 'PATCH') {
    const u = await session(call, uuid, 'write');
    const range = parseContentRange(header(request, 'content-range'));
    const offset = await reg.uploads.append(u, request.raw, { range, user, signal: uploadSignal(request) });
    return uploadHeaders(call, uuid, offset).code(202).send();
  }
  if (method === 'PUT') {
    const u = await session(call, uuid, 'write');
    const d = parseDigest(call.query.get('digest') ?? undefined);
    const range = parseContentRange(header(request, 'content-range'));
    const body = hasBody(request) ? request.raw : undefined;
    await reg.uploads.finish(u, d, body, { range, user, signal: uploadSignal(request) });
    return created(call, d);
  }
  throw new OciError('UNSUPPORTED', `${method} is not supported on an upload`);
}
