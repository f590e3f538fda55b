import { npmRenderer } from '../../http/error-renderers.js';
import { NPM_PREFIX, npmRoutes } from '../../http/routes/npm.js';
import type { FormatModule } from '../format-module.js';
import { npmHandler } from './npm-handler.js';

/** npm: the registry API under `/artifactory/api/npm/{repo}/` (npm, pnpm, yarn). */
export const npm: FormatModule = {
  name: 'npm',
  handler: npmHandler,
  protocol: { prefixes: [NPM_PREFIX], routes: npmRoutes, errors: npmRenderer },
};
