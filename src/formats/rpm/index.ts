import type { FormatModule } from '../format-module.js';
import { rpmHandler } from './rpm-handler.js';
import { rpmRenderer } from './routes/rpm-errors.js';
import { RPM_PREFIX, rpmRoutes } from './routes/rpm.js';
import { RpmService } from './service/rpm-service.js';

/**
 * RPM (YUM/DNF) repositories, packageType `rpm` (and the seed's older `yum`): files at
 * `/artifactory/{repo}/` (a .repo file's `baseurl=`), also at `/artifactory/api/yum/{repo}/`;
 * repomd.xml signatures, remote and virtual repodata made by the service when read.
 */
export const rpm: FormatModule<RpmService> = {
  name: 'rpm',
  handler: rpmHandler,
  service: (deps) => new RpmService(deps),
  reads: (service) => service.reads(),
  protocol: { prefixes: [RPM_PREFIX], routes: (app, ctx) => rpmRoutes(app, ctx), errors: rpmRenderer },
};
