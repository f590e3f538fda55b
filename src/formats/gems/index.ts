import type { FormatModule } from '../format-module.js';
import { gemsHandler } from './gems-handler.js';
import { GEMS_PREFIX, gemsRoutes } from './routes/gems.js';
import { gemsRenderer } from './routes/gems-errors.js';
import { GemsService } from './service/gems-service.js';

/** RubyGems: the compact index, the legacy Marshal index, push and yank under `/artifactory/api/gems/{repo}` (gem, bundler). */
export const gems: FormatModule<GemsService> = {
  name: 'gems',
  handler: gemsHandler,
  service: (deps) => new GemsService(deps),
  protocol: { prefixes: [GEMS_PREFIX], routes: gemsRoutes, errors: gemsRenderer },
};
