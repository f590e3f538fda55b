/**
 * Storage internals a user does not browse for: in Docker and OCI repositories the registry
 * keeps blob links and upload sessions in `{image}/_uploads/`, referrers in `_referrers/`, and
 * each manifest's config and layer blobs as `sha256__{hex}` files beside it
 * (src/formats/oci/layout.ts). Hidden unless "Show internal files" is on.
 */
export function isInternal(packageType: string, name: string): boolean {
  const type = packageType.toLowerCase();
  if (type !== 'docker' && type !== 'oci') return false;
  return name === '_uploads' || name === '_referrers' || /^sha(256|384|512)__[0-9a-f]+$/.test(name);
}

/** True when `path` has an internal segment (a page inside `_uploads/` shows its files anyway). */
export function insideInternal(packageType: string, path: string): boolean {
  return path.split('/').some((s) => isInternal(packageType, s));
}
