/** Blob endpoints of the registry API: pull (HEAD/GET with ranges), delete, uploads and mounts. */
import { serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import { OciError } from '../oci-errors.js';
import { isValidName, parseDigest, splitName, type Digest } from '../reference.js';
import { hasBody, header, urlOf, uploadSignal, type OciCall } from './oci-call.js';

function blobUnknown(call: OciCall, d: Digest): OciError {
  return new OciError('BLOB_UNKNOWN', `Blob ${d.text} is not in '${call.name}'`, { detail: { digest: d.text } });
}

/** HEAD or GET of a blob, in a repository of any kind. */
export async function getBlob(call: OciCall, digest: string, head: boolean) {
  const d = parseDigest(digest);
  const item = await call.oci.reads.blob(call.access, call, d, head);
  if (!item) throw blobUnknown(call, d);
  call.reply.header('Docker-Content-Digest', d.text);
  return serveFile(call.ctx, call.request, call.reply, item, head);
}

export async function deleteBlob(call: OciCall, digest: string) {
  const d = parseDigest(digest);
  if (!(await call.oci.writes.deleteBlob(call.access, call, d))) throw blobUnknown(call, d);
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

/** The image a mount's `from` names (`{repo}/{image}` at the root, an image of the same repository under a prefix). */
function mountFrom(call: OciCall, from: string): { repo: string; image: string } | undefined {
  let repo = call.repo.key;
  let image = from;
  if (call.prefix === '') {
    try {
      ({ repoKey: repo, image } = splitName(from));
    } catch {
      return undefined;
    }
  }
  return isValidName(image) ? { repo, image } : undefined;
}

/** POST `blobs/uploads/`: a mount (`?mount=&from=`), a monolithic upload (`?digest=`), or a new session. */
export async function startUpload(call: OciCall) {
  const { query, request } = call;
  const mount = query.get('mount');
  const from = query.get('from');
  const started = await call.oci.writes.startUpload(call.access, call, {
    mount: mount !== null && from !== null ? { digest: mount, from: mountFrom(call, from) } : undefined,
    digest: query.get('digest') ?? undefined,
    body: () => ({ stream: request.raw, signal: uploadSignal(request) }),
  });
  if ('created' in started) return created(call, started.created);
  return uploadHeaders(call, started.session, 0).code(202).send();
}

function parseContentRange(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new OciError('BLOB_UPLOAD_INVALID', `Content-Range '${value}' is not '<start>-<end>'`, { code: 'RANGE_NOT_SATISFIABLE' });
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * PATCH, PUT, GET and DELETE of an upload session. (The permission on the session was
 * checked before the body too, so the parsing of its headers here may come first.)
 */
export async function uploadSession(call: OciCall, uuid: string, method: string) {
  const { oci, access, request } = call;
  if (method === 'GET') {
    const offset = await oci.writes.uploadStatus(access, call, uuid);
    return uploadHeaders(call, uuid, offset).code(204).send();
  }
  if (method === 'DELETE') {
    await oci.writes.cancelUpload(access, call, uuid);
    return call.reply.code(204).send();
  }
  if (method === 'PATCH') {
    const range = parseContentRange(header(request, 'content-range'));
    const offset = await oci.writes.appendUpload(access, call, uuid, request.raw, { range, signal: uploadSignal(request) });
    return uploadHeaders(call, uuid, offset).code(202).send();
  }
  if (method === 'PUT') {
    const d = parseDigest(call.query.get('digest') ?? undefined);
    const range = parseContentRange(header(request, 'content-range'));
    const body = hasBody(request) ? request.raw : undefined;
    await oci.writes.finishUpload(access, call, uuid, d, body, { range, signal: uploadSignal(request) });
    return created(call, d);
  }
  throw new OciError('UNSUPPORTED', `${method} is not supported on an upload`);
}
