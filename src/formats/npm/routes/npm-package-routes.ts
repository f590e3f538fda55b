/**
 * The package endpoints of the npm registry protocol: packument and version GET, tarball GET,
 * publish and deprecate (PUT of the packument), unpublish (PUT/DELETE with `-rev`, tarball
 * DELETE) and dist-tags. Writes to a virtual repository go to its defaultDeploymentRepo.
 */
import { ArcaError } from '../../../core/errors.js';
import { header, serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import { ABBREVIATED_TYPE, own, renderFull, wantsAbbreviated, type PackageDocument } from '../packument.js';
import { PUBLISH_LIMITS } from '../publish-body.js';
import type { ReceivedPackument } from '../service/npm-writes.js';
import { checkDeclaredLength, jsonBody, NPM_BODY_LIMITS, registryUrl, sendJson, type NpmCall } from './npm-call.js';

const notFound = (name: string) => new ArcaError('NOT_FOUND', `Package ${name} not found`);

/** The document a read sees: `?write=true` (npm reads before it writes) reads the write target's own document. */
function readDocument(call: NpmCall, name: string) {
  return call.packages.packument(call.access, call.repo, name, call.query.get('write') === 'true');
}

export async function getPackument(call: NpmCall, name: string, head: boolean) {
  const resolved = await readDocument(call, name);
  if (!resolved) throw notFound(name);
  const abbreviated = call.query.get('write') !== 'true' && wantsAbbreviated(header(call.request, 'accept'));
  const out = call.packages.render(resolved, await registryUrl(call), abbreviated);
  const reply = call.reply;
  reply.header('ETag', out.etag).header('Vary', 'Accept').header('Cache-Control', 'no-cache');
  if (out.modified) reply.header('Last-Modified', new Date(out.modified).toUTCString());
  reply.type(abbreviated ? ABBREVIATED_TYPE : 'application/json');
  const inm = header(call.request, 'if-none-match');
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === out.etag)) return reply.code(304).send();
  if (head) return reply.code(200).header('Content-Length', String(out.body.length)).send();
  return reply.code(200).send(out.body);
}

/** `GET /{name}/{version or dist-tag}`: one version object. */
export async function getVersion(call: NpmCall, name: string, spec: string) {
  const resolved = await readDocument(call, name);
  if (!resolved) throw notFound(name);
  const doc = resolved.doc;
  const version = own(doc.versions, spec) ? spec : own(doc['dist-tags'], spec);
  if (!version || !own(doc.versions, version)) throw new ArcaError('NOT_FOUND', `Version or tag '${spec}' of ${name} not found`);
  const full = renderFull({ ...doc, versions: { [version]: doc.versions[version] } }, await registryUrl(call)) as PackageDocument;
  return sendJson(call.reply, 200, full.versions[version]);
}

export async function getTarball(call: NpmCall, name: string, file: string, head: boolean) {
  const item = await call.packages.tarballFile(call.access, call.repo, name, file);
  return serveFile(call.ctx, call.request, call.reply, item, head);
}

function ok(call: NpmCall, status: number, doc?: PackageDocument) {
  return sendJson(call.reply, status, doc ? { ok: true, id: doc.name, rev: doc._rev } : { ok: true });
}

/** Reads a packument PUT, streaming its tarball (if any) into staging. */
async function receive(call: NpmCall): Promise<ReceivedPackument> {
  checkDeclaredLength(call, PUBLISH_LIMITS.maxBodyBytes);
  const { request } = call;
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  try {
    return await call.packages.writes.receive(request.raw, abort.signal);
  } catch (err) {
    if (abort.signal.aborted && !(err instanceof ArcaError)) throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the publish; nothing was stored');
    throw err;
  }
}

/** Does a packument PUT publish a version (it carries an attachment), rather than change the document? */
function isPublish({ doc, tarball }: ReceivedPackument): boolean {
  const attachments = doc && typeof doc === 'object' ? (doc as Record<string, unknown>)._attachments : undefined;
  return tarball !== undefined || (!!attachments && typeof attachments === 'object' && Object.keys(attachments).length > 0);
}

/** `PUT /{name}`: a publish when the body carries attachments, else a deprecation change. */
export async function putPackage(call: NpmCall, name: string) {
  const received = await receive(call);
  try {
    if (isPublish(received)) {
      const email = (await call.ctx.security.users.row(call.access.user))?.email ?? undefined;
      return ok(call, 201, await call.packages.writes.publish(call.access, call.repo, name, received, email));
    }
    return ok(call, 200, await call.packages.writes.deprecate(call.access, call.repo, name, received.doc));
  } finally {
    await received.tarball?.staged.discard();
  }
}

/** `PUT /{name}/-rev/{rev}`: the packument with versions left out (`npm unpublish pkg@ver`). */
export async function putRevision(call: NpmCall, name: string, rev: string) {
  const body = await jsonBody(call, NPM_BODY_LIMITS.document);
  return ok(call, 201, await call.packages.writes.putRevision(call.access, call.repo, name, rev, body));
}

/** `DELETE /{name}/-rev/{rev}`: the whole package. */
export async function deletePackage(call: NpmCall, name: string, rev: string) {
  await call.packages.writes.deletePackage(call.access, call.repo, name, rev);
  return ok(call, 200);
}

/** `DELETE /{name}/-/{file}/-rev/{rev}`: a tarball; its version goes from the document too. */
export async function deleteTarball(call: NpmCall, name: string, file: string, rev: string | undefined) {
  await call.packages.writes.deleteTarball(call.access, call.repo, name, file, rev);
  return ok(call, 200);
}

export async function getDistTags(call: NpmCall, name: string) {
  const resolved = await readDocument(call, name);
  if (!resolved) throw notFound(name);
  return sendJson(call.reply, 200, resolved.doc['dist-tags']);
}

/** PUT (one tag, body `"1.2.3"`), POST (several, body `{tag: version}`) and DELETE of dist-tags. */
export async function changeDistTags(call: NpmCall, name: string, method: 'PUT' | 'POST' | 'DELETE', tag: string | undefined) {
  const body = () => jsonBody(call, NPM_BODY_LIMITS.small);
  const doc = await call.packages.writes.changeDistTags(call.access, call.repo, name, { method, tag, body });
  return sendJson(call.reply, method === 'DELETE' ? 200 : 201, { ok: true, id: doc.name, 'dist-tags': doc['dist-tags'] });
}
