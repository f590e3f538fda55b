/** Manifest, tag and referrer endpoints of the registry API. */
import { MAX_MANIFEST_BYTES } from '../manifest.js';
import { acceptsManifest, OCI_INDEX } from '../media-types.js';
import { OciError } from '../oci-errors.js';
import { lookupReference, parseDigest } from '../reference.js';
import type { Page } from '../service/discovery.js';
import { header, pageSize, readBody, urlOf, type OciCall } from './oci-call.js';

function manifestUnknown(call: OciCall, reference: string): OciError {
  return new OciError('MANIFEST_UNKNOWN', `Manifest '${reference}' is not in '${call.name}'`, { detail: { reference } });
}

/**
 * HEAD or GET of a manifest, in a repository of any kind. The caller is authorised (401 with
 * the challenges) before learning anything, even that the reference is malformed; a
 * reference that names no manifest is then MANIFEST_UNKNOWN.
 */
export async function getManifest(call: OciCall, reference: string, head: boolean) {
  const found = await call.oci.reads.manifest(call.access, call, lookupReference(reference));
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
  return reply.send(await call.oci.reads.manifestBytes(found));
}

export async function putManifest(call: OciCall, reference: string) {
  const { request } = call;
  const result = await call.oci.writes.putManifest(call.access, call, reference, header(request, 'content-type'), () => readBody(request, MAX_MANIFEST_BYTES));
  const reply = call.reply.code(201).header('Location', urlOf(call, `manifests/${result.digest}`)).header('Docker-Content-Digest', result.digest);
  if (result.manifest.subject) reply.header('OCI-Subject', result.manifest.subject.digest.text);
  return reply.header('Content-Length', '0').send();
}

export async function deleteManifest(call: OciCall, reference: string) {
  if (!(await call.oci.writes.deleteManifest(call.access, call, lookupReference(reference)))) throw manifestUnknown(call, reference);
  return call.reply.code(202).header('Content-Length', '0').send();
}

export function nameUnknown(call: OciCall): OciError {
  return new OciError('NAME_UNKNOWN', `Repository name '${call.name}' not known to the registry`, { detail: { name: call.name } });
}

/** One page of an image's tags list, with a `Link` to the next. */
export function sendTags(call: OciCall, page: Page, n: number | undefined) {
  if (page.more) {
    const last = page.items[page.items.length - 1];
    call.reply.header('Link', `<${urlOf(call, `tags/list?n=${n}&last=${encodeURIComponent(last)}`)}>; rel="next"`);
  }
  return call.reply.code(200).type('application/json').send(JSON.stringify({ name: call.name, tags: page.items }));
}

/** The tags of an image of a local repository, one page (`n` is checked before the caller). */
export async function listTags(call: OciCall) {
  const n = pageSize(call.query);
  const page = await call.oci.reads.tagsPage(call.access, call, n, call.query.get('last') ?? undefined);
  if (page === undefined) throw nameUnknown(call);
  return sendTags(call, page, n);
}

/** The referrers of a manifest, in a repository of any kind. */
export async function listReferrers(call: OciCall, digest: string) {
  const subject = parseDigest(digest);
  const artifactType = call.query.get('artifactType') ?? undefined;
  const index = await call.oci.reads.referrers(call.access, call, subject, artifactType);
  if (artifactType !== undefined) call.reply.header('OCI-Filters-Applied', 'artifactType');
  return call.reply.code(200).header('Content-Type', OCI_INDEX).send(Buffer.from(JSON.stringify(index)));
}
