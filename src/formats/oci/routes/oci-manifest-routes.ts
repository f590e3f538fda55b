/** Manifest, tag and referrer endpoints of the registry API. */
import { digestFolder, tagFolder } from '../layout.js';
import { MAX_MANIFEST_BYTES } from '../manifest.js';
import { acceptsManifest, OCI_INDEX } from '../media-types.js';
import { OciError } from '../oci-errors.js';
import { lookupReference, parseDigest, parseReference, type ManifestReference } from '../reference.js';
import { paginate } from '../service/discovery.js';
import { header, need, pageSize, readBody, urlOf, type OciCall } from './oci-call.js';

/**
 * The path a manifest request is authorised on: the tag or digest folder, or the image itself
 * for a reference that names no manifest. Every manifest request checks it before it looks
 * at the reference any further, so the caller is authenticated (401 with the challenges)
 * before learning anything, even that the reference is malformed.
 */
export function manifestFolder(call: OciCall, ref: ManifestReference | undefined): string {
  if (!ref) return call.image;
  return ref.kind === 'tag' ? tagFolder(call.image, ref.tag) : digestFolder(call.image, ref.digest);
}

export function manifestUnknown(call: OciCall, reference: string): OciError {
  return new OciError('MANIFEST_UNKNOWN', `Manifest '${reference}' is not in '${call.name}'`, { detail: { reference } });
}

export async function getManifest(call: OciCall, reference: string, head: boolean) {
  const ref = lookupReference(reference);
  await need(call, 'read', manifestFolder(call, ref));
  const found = ref && (await call.reg.manifests.resolve(call.repo.key, call.image, ref));
  if (!found) throw manifestUnknown(call, reference);
  if (!acceptsManifest(call.request.headers.accept, found.mediaType)) {
    throw new OciError('MANIFEST_UNKNOWN', `Manifest '${reference}' is an index (${found.mediaType}), which the Accept header does not list`, {
      detail: { reference, mediaType: found.mediaType },
    });
  }
  const reply = call.reply
    .code(200)
    .header('Content-Type', found.mediaType)
    .header('Docker-Content-Digest', found.digest)
    .header('ETag', `"${found.digest}"`);
  const inm = header(call.request, 'if-none-match');
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${found.digest}"`)) return reply.code(304).send();
  if (head) return reply.header('Content-Length', String(found.item.size)).send();
  return reply.send(await call.reg.store.bytes(found.item));
}

export async function putManifest(call: OciCall, reference: string) {
  await need(call, 'write', manifestFolder(call, lookupReference(reference)));
  // A push to a malformed reference stays a 400 (MANIFEST_INVALID or DIGEST_INVALID).
  const ref = parseReference(reference);
  const folder = manifestFolder(call, ref);
  const { ctx, request } = call;
  const canMoveTag = ref.kind === 'tag' && (await ctx.security.canAccess(request.principal, 'delete', call.repo, folder));
  const bytes = await readBody(request, MAX_MANIFEST_BYTES);
  const result = await call.reg.manifests.put({
    repo: call.repo.key,
    image: call.image,
    ref,
    contentType: header(request, 'content-type'),
    bytes,
    user: request.principal.name,
    canMoveTag,
  });
  const reply = call.reply.code(201).header('Location', urlOf(call, `manifests/${result.digest}`)).header('Docker-Content-Digest', result.digest);
  if (result.manifest.subject) reply.header('OCI-Subject', result.manifest.subject.digest.text);
  return reply.header('Content-Length', '0').send();
}

export async function deleteManifest(call: OciCall, reference: string) {
  const ref = lookupReference(reference);
  await need(call, 'delete', manifestFolder(call, ref));
  if (!ref || !(await call.reg.manifests.delete(call.repo.key, call.image, ref))) throw manifestUnknown(call, reference);
  return call.reply.code(202).header('Content-Length', '0').send();
}

export async function listTags(call: OciCall) {
  const n = pageSize(call.query);
  await need(call, 'read', call.image);
  const tags = await call.reg.discovery.tags(call.repo.key, call.image);
  if (tags === undefined) throw new OciError('NAME_UNKNOWN', `Repository name '${call.name}' not known to the registry`, { detail: { name: call.name } });
  const page = paginate(tags, n, call.query.get('last') ?? undefined);
  if (page.more) {
    const last = page.items[page.items.length - 1];
    call.reply.header('Link', `<${urlOf(call, `tags/list?n=${n}&last=${encodeURIComponent(last)}`)}>; rel="next"`);
  }
  return call.reply.code(200).type('application/json').send(JSON.stringify({ name: call.name, tags: page.items }));
}

export async function listReferrers(call: OciCall, digest: string) {
  const subject = parseDigest(digest);
  await need(call, 'read', call.image);
  const artifactType = call.query.get('artifactType') ?? undefined;
  const index = await call.reg.discovery.referrers(call.repo.key, call.image, subject, artifactType);
  if (artifactType !== undefined) call.reply.header('OCI-Filters-Applied', 'artifactType');
  return call.reply.code(200).header('Content-Type', OCI_INDEX).send(Buffer.from(JSON.stringify(index)));
}
