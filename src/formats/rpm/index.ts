import type { FormatModule } from '../format-module.js';
import { rpmHandler } from './rpm-handler.js';

/** RPM (YUM/DNF) repositories at `/artifactory/{repo}/` (`baseurl=` in a .repo file), packageType `rpm` (and the old `yum`). */
export const rpm: FormatModule = {
  name: 'rpm',
  handler: rpmHandler,
};
