import type { FormatModule } from '../format-module.js';
import { goHandler } from './go-handler.js';
import { GO_PREFIX, goRoutes, storedGoFile } from './routes/go.js';
import { goRenderer } from './routes/go-errors.js';
import { GoService } from './service/go-service.js';

/** Go modules: the GOPROXY protocol and `jf go-publish` deploys under `/artifactory/api/go/{repo}` (the go command). */
export const go: FormatModule<GoService> = {
  name: 'go',
  handler: goHandler,
  service: (deps) => new GoService(deps),
  protocol: {
    prefixes: [GO_PREFIX],
    routes: goRoutes,
    errors: goRenderer,
    // A local repository's .zip, .mod and .info are its stored files: the download fast path sends them.
    storedFiles: { prefix: GO_PREFIX, packageType: 'go', itemPath: storedGoFile },
  },
};
