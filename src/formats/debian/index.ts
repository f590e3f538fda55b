import type { FormatModule } from '../format-module.js';
import { debianHandler } from './debian-handler.js';
import { debianRenderer } from './routes/debian-errors.js';
import { DEBIAN_PREFIX, debianRoutes } from './routes/debian.js';
import { DebianService } from './service/debian-service.js';

/** Debian: APT repositories (dists/ indexes, signed Release) under `/artifactory/api/deb/{repo}`. */
export const debian: FormatModule<DebianService> = {
  name: 'debian',
  handler: debianHandler,
  service: (deps) => new DebianService(deps),
  protocol: { prefixes: [DEBIAN_PREFIX], routes: debianRoutes, errors: debianRenderer },
};
