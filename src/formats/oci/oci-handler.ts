/**
 * The docker / oci FormatHandler: what the generic `/artifactory/{repo}/{path}` routes do with
 * registry repositories. Clients speak the registry API (`/v2/`, routes/oci.ts); the
 * generic routes read, list and delete the same items (see layout.ts), but do not deploy:
 * a manifest or blob written there would bypass the digest checks and the references
 * between manifests and blobs, so such deploys are refused with a pointer to the API.
 */
import { ArcaError } from '../../core/errors.js';
import type { FormatHandler } from '../format-handler.js';
import { isDigestFolderName, MANIFEST_FILES } from './layout.js';

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
};
