import { join } from 'node:path';
import type { Logger } from 'pino';
import type { HomeLayout } from '../../config/home.js';
import type { NodeIdentity } from '../../config/node-identity.js';
import type { SystemConfig } from '../../config/system-yaml.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { ConfigVersions } from '../config-versions.js';
import { LicenseManager } from './license-manager.js';
import { LicensePool } from './license-pool.js';
import { BOOTSTRAP_FILE, licenseSettings } from './license-settings.js';

export interface NodeLicenseDeps {
  database: Database;
  clock: Clock;
  system: SystemConfig;
  layout: HomeLayout;
  identity: NodeIdentity;
  versions: ConfigVersions;
  log: Logger;
  /** The process that registers the node (and imports the bootstrap file). */
  init: boolean;
}

/**
 * Builds this node's license manager from its configuration and, when it is on, imports
 * `etc/artifactory.cluster.license` (in the registering process), takes a license from the
 * pool and starts the periodic check. Called after the node registered as STARTING.
 */
export async function startLicenses(deps: NodeLicenseDeps): Promise<LicenseManager> {
  const settings = licenseSettings(deps.system, deps.layout.security);
  const log = deps.log.child({ component: 'licenses' });
  const pool = settings.publicKey
    ? new LicensePool(deps.database, deps.clock, {
        nodeId: deps.identity.nodeId,
        publicKey: settings.publicKey,
        staleMs: deps.system.number('arca.ha.heartbeatStaleSecs') * 1000,
        expiryWindowMs: settings.expiryWindowMs,
      })
    : undefined;
  const manager = new LicenseManager(pool, settings, deps.clock, log);
  if (deps.init) {
    await manager.importBootstrap(join(deps.layout.etc, BOOTSTRAP_FILE));
    if (pool) log.info(`Cluster License Manager on (public key from ${settings.keySource})`);
  }
  if (!pool) return manager;
  await manager.check();
  manager.start(deps.versions);
  return manager;
}
