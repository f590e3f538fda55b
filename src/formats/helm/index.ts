import type { FormatModule } from '../format-module.js';
import { helmHandler } from './helm-handler.js';
import { helmRenderer } from './routes/helm-errors.js';
import { HELM_PREFIX, helmRoutes } from './routes/helm.js';
import { HelmService } from './service/helm-service.js';

/** Helm: classic chart repositories (index.yaml, ChartMuseum's API) under `/artifactory/api/helm/{repo}`. */
export const helm: FormatModule<HelmService> = {
  name: 'helm',
  handler: helmHandler,
  service: (deps) => new HelmService(deps),
  protocol: { prefixes: [HELM_PREFIX], routes: helmRoutes, errors: helmRenderer },
};
