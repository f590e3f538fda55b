/**
 * Where the registry keeps things in a repository's item tree: every storage path in one
 * file (as distribution's `paths.go`). The layout follows Artifactory's Docker layout, so the
 * generic storage API, searches and garbage collection see images as ordinary items:
 *
 *   {image}/{tag}/manifest.json          the tagged image manifest (list.manifest.json for an index)
 *   {image}/{tag}/sha256__{hex}          the config and layer blobs of that manifest
 *   {image}/sha256:{hex}/manifest.json   every manifest by digest, tagged or not (same binary)
 *   {image}/sha256:{hex}/sha256__{hex}   its config and layers
 *   {image}/_uploads/sha256__{hex}       a blob pushed to this image (its "link": HEAD and
 *                                        GET of the blob look here first)
 *   {image}/_uploads/{uuid}/part-{start} an upload session: one item per received chunk, so a
 *                                        chunked upload can continue through any node
 *   {image}/_referrers/{subject}/{digest} a manifest whose `subject` is {subject}
 *
 * Blobs are content-addressed binaries of the shared content store: every item above that
 * holds the same bytes references the same binary (one copy on disk, across repositories
 * and formats). A digest folder is named `sha256:{hex}` (a colon never appears in a tag),
 * and `_uploads` / `_referrers` are refused as tags.
 */
import { type Digest, type ManifestReference } from './reference.js';

export const UPLOADS_FOLDER = '_uploads';
export const REFERRERS_FOLDER = '_referrers';
export const MANIFEST_FILE = 'manifest.json';
export const LIST_MANIFEST_FILE = 'list.manifest.json';
export const MANIFEST_FILES: readonly string[] = [MANIFEST_FILE, LIST_MANIFEST_FILE];
/** Names below an image that are not tags. */
export const RESERVED_TAGS: readonly string[] = [UPLOADS_FOLDER, REFERRERS_FOLDER];

/** The item name of a blob: `sha256__{hex}` (Artifactory's layer naming). */
export function blobFileName(d: Digest): string {
  return `${d.algorithm}__${d.hex}`;
}

/** The link that records a blob as pushed to (or mounted into) an image. */
export function blobLinkPath(image: string, d: Digest): string {
  return `${image}/${UPLOADS_FOLDER}/${blobFileName(d)}`;
}

export function uploadFolder(image: string, uuid: string): string {
  return `${image}/${UPLOADS_FOLDER}/${uuid}`;
}

/** A chunk of an upload session, named by its first byte's offset (zero-padded so names sort). */
export function uploadPartPath(image: string, uuid: string, offset: number): string {
  return `${uploadFolder(image, uuid)}/part-${String(offset).padStart(16, '0')}`;
}

export function manifestFileName(kind: 'image' | 'index'): string {
  return kind === 'index' ? LIST_MANIFEST_FILE : MANIFEST_FILE;
}

export function tagFolder(image: string, tag: string): string {
  return `${image}/${tag}`;
}

export function digestFolder(image: string, d: Digest): string {
  return `${image}/${d.text}`;
}

/**
 * The folder of a manifest reference (its tag or digest folder), or the image itself for a
 * reference that names no manifest: what a manifest request is authorised on.
 */
export function manifestFolder(image: string, ref: ManifestReference | undefined): string {
  if (!ref) return image;
  return ref.kind === 'tag' ? tagFolder(image, ref.tag) : digestFolder(image, ref.digest);
}

/** True for a folder name below an image that holds a manifest by digest. */
export function isDigestFolderName(name: string): boolean {
  return /^sha(256|512):[a-f0-9]+$/.test(name);
}

/** True for a folder name below an image that can be a tag. */
export function isTagFolderName(name: string): boolean {
  return !isDigestFolderName(name) && !RESERVED_TAGS.includes(name);
}

export function referrersFolder(image: string, subject: Digest): string {
  return `${image}/${REFERRERS_FOLDER}/${subject.text}`;
}

export function referrerLinkPath(image: string, subject: Digest, referrer: Digest): string {
  return `${referrersFolder(image, subject)}/${referrer.text}`;
}

/** Upload session ids: random UUIDs; anything else is an unknown upload. */
export function isUploadId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}

/** True for a path in an upload session (`{image}/_uploads/{uuid}[/part-…]`): temporary, never replicated. */
export function isUploadSessionPath(path: string): boolean {
  const parts = path.split('/');
  const at = parts.lastIndexOf(UPLOADS_FOLDER);
  return at >= 0 && at + 1 < parts.length && isUploadId(parts[at + 1]);
}
