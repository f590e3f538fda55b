/**
 * The docker / oci FormatHandler: what the generic `/artifactory/{repo}/{path}` routes do with
 * registry repositories. Clients speak the registry API (`/v2/`, routes/oci.ts); the
 * generic routes read, list and delete the same items (see layout.ts), but do not deploy:
 * a manifest or blob written there would bypass the digest checks and the references
 * between manifests and blobs, so such deploys are refused with a pointer to the API.
 */
import { ArcaError } from '../../core/errors.js';
import type { FormatHandler } from '../format-handler.js';
import { isDigestFolderName, isUploadSessionPath, MANIFEST_FILES, REFERRERS_FOLDER } from './layout.js';
import { MAX_MANIFEST_BYTES } from './manifest.js';
import { OCI_INDEX, OCI_MANIFEST } from './media-types.js';

/** A manifest file (by tag or digest) or a referrer link: items whose media type the registry serves. */
function holdsManifest(path: string): boolean {
  const parts = path.split('/');
  return MANIFEST_FILES.includes(parts[parts.length - 1]) || (parts.length >= 4 && parts[parts.length - 3] === REFERRERS_FOLDER);
}

/**
 * A replicated manifest's media type: the `docker.manifest.type` property the push recorded,
 * else the manifest's own `mediaType`, else what its fields say (an OCI index or manifest).
 */
function manifestMediaType(content: Buffer, properties: Readonly<Record<string, readonly string[]>>): string | undefined {
  const recorded = properties['docker.manifest.type']?.[0];
  if (recorded) return recorded;
  try {
    const body = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
    if (typeof body.mediaType === 'string' && body.mediaType !== '') return body.mediaType;
    return Array.isArray(body.manifests) ? OCI_INDEX : OCI_MANIFEST;
  } catch {
    return undefined;
  }
}

export const ociHandler: FormatHandler = {
  packageTypes: ['docker', 'oci'],
  /** A manifest under a tag folder moves when the tag is pushed again; everything by digest is immutable. */
  classify(path) {
    const parts = path.split('/');
    const name = parts[parts.length - 1];
    if (parts.length >= 3 && MANIFEST_FILES.includes(name) && !isDigestFolderName(parts[parts.length - 2])) return 'metadata';
    return 'artifact';
  },
  async beforeDeploy(check) {
    throw new ArcaError(
      'BAD_REQUEST',
      `'${check.repo.key}' is a ${check.repo.packageType} repository: push images and artifacts through the registry API ` +
        `(/v2/${check.repo.key}/<image>/…), for example with docker, podman, skopeo, oras or helm`,
    );
  },
  // A replication stores the items the source's registry wrote (docs/replication.md); the
  // image list (oci_images) follows digest manifests through triggers, tags are folders.
  replicatedContentLimit(path) {
    return holdsManifest(path) ? MAX_MANIFEST_BYTES : undefined;
  },
  transientPath: isUploadSessionPath,
  replicatedMediaType(path, content, properties) {
    return content && holdsManifest(path) ? manifestMediaType(content, properties) : undefined;
  },
};
