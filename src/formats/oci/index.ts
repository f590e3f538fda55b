import type { FormatModule } from '../format-module.js';
import { createOciServices, type OciServices } from './service/oci-services.js';
import { ociHandler } from './oci-handler.js';
import { OCI_PREFIXES, ociRoutes } from './routes/oci.js';
import { ociChallenge, ociRenderer } from './routes/oci-errors.js';

/**
 * The OCI distribution registry (docker, podman, skopeo, oras) for repositories of package
 * type `docker`: `/v2/` on the root (the repository is the first name component) and
 * `/artifactory/api/docker/{repo}/v2/`.
 */
export const oci: FormatModule<OciServices> = {
  name: 'oci',
  handler: ociHandler,
  service: createOciServices,
  protocol: { prefixes: OCI_PREFIXES, routes: ociRoutes, errors: ociRenderer, challenge: ociChallenge },
};
