import type { ConfigVersions } from '../../cluster/config-versions.js';
import { startLicenses } from '../../cluster/licenses/node-licenses.js';
import type { LicenseManager } from '../../cluster/licenses/license-manager.js';
import type { LockManager } from '../../cluster/locks/lock-manager.js';
import { openLockManager } from '../../cluster/locks/open-lock-manager.js';
import { NodeRegistry } from '../../cluster/node-registry.js';
import type { Database } from '../../db/database.js';
import { createLockTable } from '../../db/migrations/0003-locks.js';
import type { Wired } from '../lifecycle.js';
import type { NodeConfig } from './config.js';

/**
 * Cluster locks on their own connections (the seed's locking pool), for cross-node critical
 * sections. They exist before the migrations, which run under one.
 */
export async function openClusterLocks(cfg: Pick<NodeConfig, 'dbConfig' | 'clock' | 'system'>, database: Database): Promise<Wired<LockManager>> {
  await createLockTable(database.db, database.dialect);
  const locks = await openLockManager(cfg.dbConfig, cfg.clock, { poolMaxActive: cfg.system.number('arca.locks.poolMaxActive') });
  return { value: locks, close: () => locks.close() };
}

/** This node's row in the cluster's node registry (the first process registers it). */
export function nodeRegistry(cfg: Pick<NodeConfig, 'clock' | 'identity' | 'version' | 'instanceId' | 'system'>, database: Database): NodeRegistry {
  return new NodeRegistry(database, cfg.clock, cfg.identity, cfg.version, {
    instanceId: cfg.instanceId,
    staleMs: cfg.system.number('arca.ha.heartbeatStaleSecs') * 1000,
  });
}

/**
 * The Cluster License Manager (off without a license public key): takes a license now. At
 * close, the process that registered the node gives its license back; a worker only stops.
 */
export async function clusterLicenses(cfg: NodeConfig, database: Database, versions: ConfigVersions): Promise<Wired<LicenseManager>> {
  const { clock, system, layout, identity, log, init } = cfg;
  const licenses = await startLicenses({ database, clock, system, layout, identity, versions, log, init });
  return { value: licenses, close: () => (init ? licenses.release() : licenses.stop()) };
}
