/** Media types of the OCI Image Specification and of Docker's image manifest v2 schema 2. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
/** Docker's schema 1 manifests (signed and not): long deprecated, refused with a clear message. */
export const DOCKER_SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];

/** Manifests that list layers (an image, or any artifact). */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST];
/** Manifests that list other manifests (multi-platform images). */
export const INDEX_TYPES: readonly string[] = [OCI_INDEX, DOCKER_MANIFEST_LIST];
export const MANIFEST_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

/** The media type without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
export function bareMediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Whether an `Accept` header lets a client take a manifest of `mediaType`. No header, an
 * empty one, and wildcards accept anything. Image manifests are served whatever the header
 * says; an index is withheld from a client that lists types but no index type (as the CNCF
 * registry does: a client that cannot read an index gets MANIFEST_UNKNOWN, not a body it
 * misreads). Either index type is taken as accepting both, since they have one structure.
 */
export function acceptsManifest(accept: string | string[] | undefined, mediaType: string): boolean {
  const values = (Array.isArray(accept) ? accept.join(',') : accept ?? '')
    .split(',')
    .map((v) => bareMediaType(v))
    .filter((v) => v !== '');
  if (values.length === 0) return true;
  if (values.some((v) => v === '*/*' || v === 'application/*' || v === mediaType)) return true;
  if (!INDEX_TYPES.includes(mediaType)) return true;
  return values.some((v) => INDEX_TYPES.includes(v));
}
