/** The referrers API's answer (OCI Distribution Spec v1.1, "Listing Referrers"). */
import { effectiveArtifactType, type ParsedManifest } from './manifest.js';
import { OCI_INDEX } from './media-types.js';

/** A manifest whose `subject` is the digest asked about. */
export interface Referrer {
  digest: string;
  size: number;
  manifest: ParsedManifest;
}

export interface ReferrerDescriptor {
  mediaType: string;
  size: number;
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: typeof OCI_INDEX;
  manifests: ReferrerDescriptor[];
}

/** The descriptor of one referrer: its artifact type (or config media type) and all its annotations. */
export function referrerDescriptor(r: Referrer): ReferrerDescriptor {
  const d: ReferrerDescriptor = { mediaType: r.manifest.mediaType, size: r.size, digest: r.digest };
  const type = effectiveArtifactType(r.manifest);
  if (type !== undefined) d.artifactType = type;
  if (r.manifest.annotations && Object.keys(r.manifest.annotations).length > 0) d.annotations = r.manifest.annotations;
  return d;
}

/**
 * An image index of the referrers, in digest order, keeping only those of `artifactType`
 * when a filter is given (the caller then answers `OCI-Filters-Applied: artifactType`).
 */
export function referrersIndex(referrers: Referrer[], artifactType?: string): ReferrersIndex {
  const manifests = referrers
    .map(referrerDescriptor)
    .filter((d) => artifactType === undefined || d.artifactType === artifactType)
    .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}
