/**
 * The registry API of remote and virtual docker/oci repositories (oci.ts hands every call
 * addressed to one of them here). Remote repositories are read-only: pushes and deletes
 * answer 405 UNSUPPORTED. Virtual repositories send pushes, uploads and deletes to their
 * `defaultDeploymentRepo` through the local repository handlers (the URLs the client is
 * given keep the virtual name), and resolve reads over their members
 * (service/registry-reads.ts, service/virtual-registry.ts).
 */
import { OciError } from '../oci-errors.js';
import { deleteBlob, getBlob, startUpload, uploadSession } from './oci-blob-routes.js';
import { pageSize, type OciCall } from './oci-call.js';
import { paginate } from '../service/discovery.js';
import { deleteManifest, getManifest, listReferrers, nameUnknown, putManifest, sendTags } from './oci-manifest-routes.js';

/** The tags of an image of a remote or virtual repository (`n` is checked once they are known). */
async function tags(call: OciCall) {
  const all = await call.oci.reads.tags(call.access, call);
  if (all === undefined) throw nameUnknown(call);
  const n = pageSize(call.query);
  return sendTags(call, paginate(all, n, call.query.get('last') ?? undefined), n);
}

/** A push, upload or delete: refused by a remote, sent to the deployment repository by a virtual. */
async function write(call: OciCall, op: string, arg: string, method: string) {
  if (call.repo.rclass !== 'virtual') {
    throw new OciError(
      'UNSUPPORTED',
      `'${call.repo.key}' is a ${call.repo.rclass} repository, which is read-only: push to a local repository, or to a virtual one with a defaultDeploymentRepo`,
    );
  }
  const local: OciCall = { ...call, repo: await call.oci.virtual.deploymentRepo(call.repo) };
  if (op === 'upload-start' && method === 'POST') return startUpload(local);
  if (op === 'upload') return uploadSession(local, arg, method);
  if (op === 'manifest' && method === 'PUT') return putManifest(local, arg);
  if (op === 'manifest' && method === 'DELETE') return deleteManifest(local, arg);
  if (op === 'blob' && method === 'DELETE') return deleteBlob(local, arg);
  return undefined;
}

/** Serves one registry call addressed to a remote or virtual repository. */
export async function proxyCall(call: OciCall, op: string, arg: string, method: string): Promise<unknown> {
  const read = method === 'GET' || method === 'HEAD';
  if (read && op === 'manifest') return getManifest(call, arg, method === 'HEAD');
  if (read && op === 'blob') return getBlob(call, arg, method === 'HEAD');
  if (method === 'GET' && op === 'tags') return tags(call);
  if (method === 'GET' && op === 'referrers') return listReferrers(call, arg);
  if (read && op === 'upload') return write(call, op, arg, method);
  if (!read) {
    const done = await write(call, op, arg, method);
    if (done !== undefined) return done;
  }
  throw new OciError('UNSUPPORTED', `${method} is not supported on ${call.request.url.split('?')[0]}`);
}
