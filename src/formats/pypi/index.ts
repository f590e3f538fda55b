import type { FormatModule } from '../format-module.js';
import { PypiService } from './service/pypi-service.js';
import { pypiHandler } from './pypi-handler.js';
import { PYPI_PREFIX, pypiRoutes } from './routes/pypi.js';
import { pypiRenderer } from './routes/pypi-errors.js';

/** PyPI: the simple index (PEP 503/691) and the legacy upload API under `/artifactory/api/pypi/{repo}` (pip, twine). */
export const pypi: FormatModule<PypiService> = {
  name: 'pypi',
  handler: pypiHandler,
  service: (deps) => new PypiService(deps),
  protocol: { prefixes: [PYPI_PREFIX], routes: pypiRoutes, errors: pypiRenderer },
};
