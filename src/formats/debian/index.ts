import type { FormatModule } from '../format-module.js';
import { debianHandler } from './debian-handler.js';
import { debianRenderer } from './routes/debian-errors.js';
import { DEBIAN_PREFIX, debianRoutes } from './routes/debian.js';
import { DebianService } from './service/debian-service.js';

/**
 * Debian: APT repositories (dists/ indexes, signed Release) under `/artifactory/api/deb/{repo}`,
 * and at `/artifactory/{repo}` as well (its `dists/` made by the service, streamed).
 */
export const debian: FormatModule<DebianService> = {
  name: 'debian',
  handler: debianHandler,
  service: (deps) => new DebianService(deps),
  reads: (service) => service.reads(),
  protocol: { prefixes: [DEBIAN_PREFIX], routes: debianRoutes, errors: debianRenderer },
};
