import { ociRenderer } from '../../http/error-renderers.js';
import { OCI_PREFIXES, ociRoutes } from '../../http/routes/oci.js';
import { ociChallenge } from '../../http/routes/oci-errors.js';
import { dockerHandler } from '../docker/docker-handler.js';
import type { FormatModule } from '../format-module.js';

/**
 * The OCI distribution registry (docker, podman, skopeo, oras) for repositories of package
 * type `docker`: `/v2/` on the root (the repository is the first name component) and
 * `/artifactory/api/docker/{repo}/v2/`.
 */
export const oci: FormatModule = {
  name: 'oci',
  handler: dockerHandler,
  protocol: { prefixes: OCI_PREFIXES, routes: ociRoutes, errors: ociRenderer, challenge: ociChallenge },
};
