import type { FormatModule } from '../format-module.js';
import { NpmPackages } from './service/npm-packages.js';
import { npmHandler } from './npm-handler.js';
import { npmRenderer } from './routes/npm-errors.js';
import { NPM_PREFIX, npmRoutes } from './routes/npm.js';

/** npm: the registry API under `/artifactory/api/npm/{repo}/` (npm, pnpm, yarn). */
export const npm: FormatModule<NpmPackages> = {
  name: 'npm',
  handler: npmHandler,
  service: (deps) => new NpmPackages(deps),
  protocol: { prefixes: [NPM_PREFIX], routes: npmRoutes, errors: npmRenderer },
};
