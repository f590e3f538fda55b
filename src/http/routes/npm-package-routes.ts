/**
 * The package endpoints of the npm registry protocol: packument and version GET, tarball GET,
 * publish and deprecate (PUT of the packument), unpublish (PUT/DELETE with `-rev`, tarball
 * DELETE) and dist-tags. Writes to a virtual repository go to its defaultDeploymentRepo.
 */
import { ArcaError } from '../../core/errors.js';
import {
  applyPackumentUpdate,
  checkDeleteRevision,
  mergeDistTags,
  removeDistTag,
  removeVersions,
  setDistTag,
} from '../../formats/npm/document.js';
import { tarballPath, versionOfTarball, parsePackageName } from '../../formats/npm/names.js';
import { ABBREVIATED_TYPE, own, renderFull, wantsAbbreviated, type PackageDocument } from '../../formats/npm/packument.js';
import { parsePublish } from '../../formats/npm/publish.js';
import { PUBLISH_LIMITS, receivePublishBody } from '../../formats/npm/publish-body.js';
import type { RepoConfig } from '../../services/repositories.js';
import { requireRepoAction } from '../auth.js';
import { header, serveFile } from './artifacts/artifacts-serve.js';
import { checkDeclaredLength, jsonBody, NPM_BODY_LIMITS, registryUrl, sendJson, type NpmCall } from './npm-call.js';

const notFound = (name: string) => new ArcaError('NOT_FOUND', `Package ${name} not found`);

function isoNow(call: NpmCall): string {
  return new Date(call.ctx.clock.now()).toISOString();
}

/** The document a read sees: `?write=true` (npm reads before it writes) reads the write target's own document. */
async function readDocument(call: NpmCall, name: string) {
  await requireRepoAction(call.ctx, call.request, 'read', call.repo, name);
  if (call.query.get('write') === 'true' && call.repo.rclass === 'virtual') {
    const target = await call.packages.writeTarget(call.repo);
    const stored = await call.packages.store.document(target.key, name);
    return stored && { doc: stored.doc, key: `L${stored.sha1}` };
  }
  return call.packages.document(call.repo, name, call.can);
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
  const version = versionOfTarball(parsePackageName(name), file);
  if (version === undefined) throw new ArcaError('NOT_FOUND', `'${file}' is not a tarball of ${name}`);
  await requireRepoAction(call.ctx, call.request, 'read', call.repo, tarballPath(name, version));
  const item = await call.packages.tarball(call.repo, name, file, call.can, call.request.principal.name);
  if (!item) throw new ArcaError('NOT_FOUND', `Tarball ${file} of ${name} not found`);
  return serveFile(call.ctx, call.request, call.reply, item, head);
}

/** The local repository a write goes to, with the caller's permission for `action` on `path` checked there. */
async function writable(call: NpmCall, action: 'write' | 'delete', path: string): Promise<RepoConfig> {
  const target = await call.packages.writeTarget(call.repo);
  if (target.blackedOut) throw new ArcaError('FORBIDDEN', `Repository '${target.key}' is blacked out`);
  await requireRepoAction(call.ctx, call.request, action, target, path);
  return target;
}

function ok(call: NpmCall, status: number, doc?: PackageDocument) {
  return sendJson(call.reply, status, doc ? { ok: true, id: doc.name, rev: doc._rev } : { ok: true });
}

/** Reads a packument PUT, streaming its tarball (if any) into staging. */
async function receive(call: NpmCall) {
  checkDeclaredLength(call, PUBLISH_LIMITS.maxBodyBytes);
  const { request, ctx } = call;
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  try {
    return await receivePublishBody(request.raw, (source) => ctx.content.stage(source, { signal: abort.signal }));
  } catch (err) {
    if (abort.signal.aborted && !(err instanceof ArcaError)) throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the publish; nothing was stored');
    throw err;
  }
}

/**
 * `PUT /{name}`: a publish when the body carries attachments, else a deprecation change. The
 * caller was checked for the right to write to the repository before the body was read; the
 * precise check (at the tarball's path, known from the body) follows here.
 */
export async function putPackage(call: NpmCall, name: string) {
  const { doc: body, tarball } = await receive(call);
  try {
    const attachments = body && typeof body === 'object' ? (body as Record<string, unknown>)._attachments : undefined;
    const user = call.request.principal.name;
    if (tarball || (attachments && typeof attachments === 'object' && Object.keys(attachments).length > 0)) {
      const pub = parsePublish(body, name, tarball);
      const path = tarballPath(pub.name, pub.version);
      const target = await writable(call, 'write', path);
      call.ctx.artifacts.checkDeployable(target, path);
      const email = (await call.ctx.security.users.row(user))?.email ?? undefined;
      const doc = await call.packages.store.publish(target, pub, tarball!.staged, user, email);
      return ok(call, 201, doc);
    }
    const target = await writable(call, 'write', name);
    const doc = await call.packages.store.update(target, name, user, (current) => {
      if (!current) throw notFound(name);
      return applyPackumentUpdate(current, body, isoNow(call));
    });
    return ok(call, 200, doc);
  } finally {
    await tarball?.staged.discard();
  }
}

/** `PUT /{name}/-rev/{rev}`: the packument with versions left out (`npm unpublish pkg@ver`). */
export async function putRevision(call: NpmCall, name: string, rev: string) {
  const body = await jsonBody(call, NPM_BODY_LIMITS.document);
  const target = await writable(call, 'write', name);
  const current = await call.packages.store.document(target.key, name);
  if (!current) throw notFound(name);
  // Removing versions needs delete permission: find out first whether this change removes any.
  if (applyPackumentUpdate(current.doc, body, isoNow(call), rev).removed.length > 0) {
    await requireRepoAction(call.ctx, call.request, 'delete', target, name);
  }
  const doc = await call.packages.store.update(target, name, call.request.principal.name, (d) => {
    if (!d) throw notFound(name);
    return applyPackumentUpdate(d, body, isoNow(call), rev);
  });
  return ok(call, 201, doc);
}

/** `DELETE /{name}/-rev/{rev}`: the whole package. */
export async function deletePackage(call: NpmCall, name: string, rev: string) {
  const target = await writable(call, 'delete', name);
  await call.packages.store.deletePackage(target, name, (doc) => checkDeleteRevision(doc, rev));
  return ok(call, 200);
}

/** `DELETE /{name}/-/{file}/-rev/{rev}`: a tarball; its version goes from the document too. */
export async function deleteTarball(call: NpmCall, name: string, file: string, rev: string | undefined) {
  const version = versionOfTarball(parsePackageName(name), file);
  if (version === undefined) throw new ArcaError('NOT_FOUND', `'${file}' is not a tarball of ${name}`);
  const path = tarballPath(name, version);
  const target = await writable(call, 'delete', path);
  const store = call.packages.store;
  const current = await store.document(target.key, name);
  if (current?.doc.versions[version]) {
    if (rev !== undefined) checkDeleteRevision(current.doc, rev);
    if (Object.keys(current.doc.versions).length === 1) await store.deletePackage(target, name);
    else await store.update(target, name, call.request.principal.name, (d) => {
      if (!d?.versions[version]) throw new ArcaError('NOT_FOUND', `${name}@${version} not found`);
      return { doc: removeVersions(d, [version], isoNow(call)), removed: [version] };
    });
    return ok(call, 200);
  }
  if (!(await store.tarball(target.key, name, version))) throw new ArcaError('NOT_FOUND', `Tarball ${file} of ${name} not found`);
  await call.ctx.artifacts.delete(target.key, path);
  return ok(call, 200);
}

export async function getDistTags(call: NpmCall, name: string) {
  const resolved = await readDocument(call, name);
  if (!resolved) throw notFound(name);
  return sendJson(call.reply, 200, resolved.doc['dist-tags']);
}

/** PUT (one tag, body `"1.2.3"`), POST (several, body `{tag: version}`) and DELETE of dist-tags. */
export async function changeDistTags(call: NpmCall, name: string, method: 'PUT' | 'POST' | 'DELETE', tag: string | undefined) {
  const target = await writable(call, 'write', name);
  const body = method === 'DELETE' ? undefined : await jsonBody(call, NPM_BODY_LIMITS.small);
  const now = isoNow(call);
  const doc = await call.packages.store.update(target, name, call.request.principal.name, (d) => {
    if (!d) throw notFound(name);
    if (method === 'POST') return { doc: mergeDistTags(d, body, now), removed: [] };
    if (tag === undefined) throw new ArcaError('BAD_REQUEST', 'The dist-tag is missing from the URL');
    return { doc: method === 'PUT' ? setDistTag(d, tag, body, now) : removeDistTag(d, tag, now), removed: [] };
  });
  return sendJson(call.reply, method === 'DELETE' ? 200 : 201, { ok: true, id: doc.name, 'dist-tags': doc['dist-tags'] });
}
