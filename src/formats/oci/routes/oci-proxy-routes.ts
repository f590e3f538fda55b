/**
 * The registry API of remote and virtual docker/oci repositories (oci.ts hands every call
 * addressed to one of them here). Remote repositories are read-only: pushes and deletes
 * answer 405 UNSUPPORTED. Virtual repositories send pushes, uploads and deletes to their
 * `defaultDeploymentRepo` through the local repository handlers (the URLs the client is
 * given keep the virtual name), and resolve reads over their members
 * (services/oci/virtual-registry.ts).
 */
import { blobLinkPath } from '../layout.js';
import { acceptsManifest, OCI_INDEX } from '../media-types.js';
import { OciError } from '../oci-errors.js';
import { lookupReference, parseDigest } from '../reference.js';
import type { ReferrersIndex } from '../referrers.js';
import { paginate } from '../service/discovery.js';
import type { StoredManifest } from '../service/manifests.js';
import type { OciProxies } from '../service/virtual-registry.js';
import type { AccessCheck } from '../../../services/storage-api.js';
import { serveFile } from '../../../http/routes/artifacts-serve.js';
import { deleteBlob, startUpload, uploadSession } from './oci-blob-routes.js';
import { header, need, pageSize, urlOf, type OciCall } from './oci-call.js';
import { deleteManifest, manifestFolder, manifestUnknown, putManifest } from './oci-manifest-routes.js';

function readCheck(call: OciCall): AccessCheck {
  return (action, repo, path) => call.ctx.security.canAccess(call.request.principal, action, repo, path);
}

function sendManifest(call: OciCall, reference: string, found: StoredManifest | undefined, head: boolean) {
  if (!found) throw new OciError('MANIFEST_UNKNOWN', `Manifest '${reference}' is not in '${call.name}'`, { detail: { reference } });
  if (!acceptsManifest(call.request.headers.accept, found.mediaType)) {
    throw new OciError('MANIFEST_UNKNOWN', `Manifest '${reference}' is an index (${found.mediaType}), which the Accept header does not list`, {
      detail: { reference, mediaType: found.mediaType },
    });
  }
  const reply = call.reply.code(200).header('Content-Type', found.mediaType).header('Docker-Content-Digest', found.digest).header('ETag', `"${found.digest}"`);
  const inm = header(call.request, 'if-none-match');
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${found.digest}"`)) return reply.code(304).send();
  if (head) return reply.header('Content-Length', String(found.item.size)).send();
  return call.reg.store.bytes(found.item).then((bytes) => reply.send(bytes));
}

async function manifest(call: OciCall, p: OciProxies, reference: string, head: boolean) {
  const ref = lookupReference(reference);
  await need(call, 'read', manifestFolder(call, ref));
  if (!ref) throw manifestUnknown(call, reference);
  const user = call.request.principal.name;
  const found =
    call.repo.rclass === 'remote'
      ? await p.remote.manifest(call.repo, call.image, ref, user)
      : (await p.virtual.manifest(call.repo, call.image, ref, readCheck(call), user))?.value;
  return sendManifest(call, reference, found, head);
}

async function blob(call: OciCall, p: OciProxies, digest: string, head: boolean) {
  const d = parseDigest(digest);
  await need(call, 'read', blobLinkPath(call.image, d));
  const user = call.request.principal.name;
  const item =
    call.repo.rclass === 'remote'
      ? await p.remote.blob(call.repo, call.image, d, user)
      : (await p.virtual.blob(call.repo, call.image, d, readCheck(call), user, head))?.value;
  if (!item) throw new OciError('BLOB_UNKNOWN', `Blob ${d.text} is not in '${call.name}'`, { detail: { digest: d.text } });
  call.reply.header('Docker-Content-Digest', d.text);
  return serveFile(call.ctx, call.request, call.reply, item, head);
}

async function tags(call: OciCall, p: OciProxies) {
  await need(call, 'read', call.image);
  const all = call.repo.rclass === 'remote' ? await p.remote.tags(call.repo, call.image) : await p.virtual.tags(call.repo, call.image, readCheck(call));
  if (all === undefined) throw new OciError('NAME_UNKNOWN', `Repository name '${call.name}' not known to the registry`, { detail: { name: call.name } });
  const n = pageSize(call.query);
  const page = paginate(all, n, call.query.get('last') ?? undefined);
  if (page.more) {
    const last = page.items[page.items.length - 1];
    call.reply.header('Link', `<${urlOf(call, `tags/list?n=${n}&last=${encodeURIComponent(last)}`)}>; rel="next"`);
  }
  return call.reply.code(200).type('application/json').send(JSON.stringify({ name: call.name, tags: page.items }));
}

async function referrers(call: OciCall, p: OciProxies, digest: string) {
  const subject = parseDigest(digest);
  await need(call, 'read', call.image);
  const artifactType = call.query.get('artifactType') ?? undefined;
  const index: ReferrersIndex =
    call.repo.rclass === 'remote'
      ? await p.remote.referrers(call.repo, call.image, subject, artifactType)
      : await p.virtual.referrers(call.repo, call.image, subject, readCheck(call), artifactType);
  if (artifactType !== undefined) call.reply.header('OCI-Filters-Applied', 'artifactType');
  return call.reply.code(200).header('Content-Type', OCI_INDEX).send(Buffer.from(JSON.stringify(index)));
}

/** A push, upload or delete: refused by a remote, sent to the deployment repository by a virtual. */
async function write(call: OciCall, p: OciProxies, op: string, arg: string, method: string) {
  if (call.repo.rclass !== 'virtual') {
    throw new OciError(
      'UNSUPPORTED',
      `'${call.repo.key}' is a ${call.repo.rclass} repository, which is read-only: push to a local repository, or to a virtual one with a defaultDeploymentRepo`,
    );
  }
  const local: OciCall = { ...call, repo: await p.virtual.deploymentRepo(call.repo) };
  if (op === 'upload-start' && method === 'POST') return startUpload(local);
  if (op === 'upload') return uploadSession(local, arg, method);
  if (op === 'manifest' && method === 'PUT') return putManifest(local, arg);
  if (op === 'manifest' && method === 'DELETE') return deleteManifest(local, arg);
  if (op === 'blob' && method === 'DELETE') return deleteBlob(local, arg);
  return undefined;
}

/** Serves one registry call addressed to a remote or virtual repository. */
export async function proxyCall(call: OciCall, op: string, arg: string, method: string): Promise<unknown> {
  const p = call.ctx.oci;
  const read = method === 'GET' || method === 'HEAD';
  if (read && op === 'manifest') return manifest(call, p, arg, method === 'HEAD');
  if (read && op === 'blob') return blob(call, p, arg, method === 'HEAD');
  if (method === 'GET' && op === 'tags') return tags(call, p);
  if (method === 'GET' && op === 'referrers') return referrers(call, p, arg);
  if (read && op === 'upload') return write(call, p, op, arg, method);
  if (!read) {
    const done = await write(call, p, op, arg, method);
    if (done !== undefined) return done;
  }
  throw new OciError('UNSUPPORTED', `${method} is not supported on ${call.request.url.split('?')[0]}`);
}
