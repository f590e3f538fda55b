import type { FormatModule } from '../format-module.js';
import { pypiHandler } from './pypi-handler.js';
import { PYPI_PREFIX, pypiRoutes } from './routes/pypi.js';
import { pypiRenderer } from './routes/pypi-errors.js';

/** PyPI: the simple index (PEP 503/691) and the legacy upload API under `/artifactory/api/pypi/{repo}` (pip, twine). */
export const pypi: FormatModule = {
  name: 'pypi',
  handler: pypiHandler,
  protocol: { prefixes: [PYPI_PREFIX], routes: pypiRoutes, errors: pypiRenderer },
};
