/**
 * The start-up duties of a node: what its first process (`init`) does once, in the order the
 * composition root (context.ts) calls them. Worker processes skip them, except that every
 * process settles the master key.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ConfigFiles, SyncResult } from '../cluster/config-files.js';
import type { LockManager } from '../cluster/locks/lock-manager.js';
import { checkMasterKey, recordedMasterKey } from '../cluster/master-key-check.js';
import type { NodeRegistry } from '../cluster/node-registry.js';
import { loadMasterKey } from '../config/master-key.js';
import { ConfigError } from '../core/errors.js';
import { securePrivatePaths, type ModeChange } from '../config/private-modes.js';
import type { SystemProperties } from '../config/system-properties.js';
import { masterKeyFingerprint } from '../core/secrets.js';
import type { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import type { SecurityService } from '../security/security-service.js';
import type { NodeConfig } from './wiring/config.js';
import { storeDataDir } from './wiring/storage.js';
import type { TempHousekeeping } from './temp-housekeeping.js';

/** The start-up line of item 11: which paths of the home were made private, and which could not be. */
export function logModeChanges(log: Logger, r: { changed: ModeChange[]; failed: ModeChange[] }): void {
  const fmt = (c: ModeChange) => `${c.path} ${c.from} -> ${c.to}`;
  if (r.changed.length > 0) {
    log.warn({ changed: r.changed }, `data at rest is private: tightened the permissions of ${r.changed.length} path(s) (directories 700, files 600): ${r.changed.map(fmt).join(', ')}`);
  }
  if (r.failed.length > 0) log.error({ failed: r.failed }, `could not make ${r.failed.length} path(s) private (not owned by this user?): ${r.failed.map(fmt).join(', ')}`);
}

/** Makes the home private, before the database opens: SQLite gives new -wal/-shm files the database file's mode. */
export function securePrivateHome(cfg: NodeConfig): void {
  logModeChanges(cfg.log, securePrivatePaths(cfg.layout, { sqliteFile: cfg.dbConfig.sqliteFile }));
}

/** A shared data directory (artifactory.ha.data.dir) is outside the home: makes it private too. */
export function secureSharedDataDir(cfg: NodeConfig): void {
  if (!cfg.identity.haDataDir) return;
  const dir = storeDataDir(cfg);
  logModeChanges(cfg.log, securePrivatePaths(cfg.layout, { dirs: [dir, join(dir, 'tmp')], fileStores: [join(dir, 'filestore')] }));
}

/** Migrates the schema under a cluster lock, so nodes starting together migrate once, one after the other. */
export async function migrateUnderLock(cfg: NodeConfig, database: Database, locks: LockManager): Promise<void> {
  const lease = await locks.acquire('arca:migrations', `${cfg.identity.nodeId}/${process.pid}`, 15 * 60_000, { timeoutMs: 15 * 60_000, pollMs: 500 });
  try {
    const applied = await migrate(database);
    if (applied.length > 0) cfg.log.info({ migrations: applied }, 'database migrated');
  } finally {
    await locks.release(lease);
  }
}

/**
 * The master key every service of this node is built with. An HA node without a key file
 * creates the cluster's key only when the database records none and this is its first
 * process; the first process then checks the key against the one the cluster recorded.
 */
export async function settleMasterKey(cfg: NodeConfig, database: Database): Promise<Buffer> {
  const { layout, init } = cfg;
  let masterKey = cfg.keyFromFile;
  if (!masterKey) {
    const recorded = await recordedMasterKey(database);
    if (recorded || !init) {
      throw new ConfigError(
        `Master key file ${layout.masterKey} is missing and this cluster already has a master key` +
          `${recorded ? ` (recorded by node '${recorded.setByNodeId}')` : ''}: copy etc/security/master.key from the primary (or any existing node) before starting this node`,
      );
    }
    masterKey = loadMasterKey(layout.masterKey, true).key;
    cfg.log.info(`Created the cluster's master key at ${layout.masterKey}; copy it to every other node`);
  }
  if (init) await checkMasterKey(database, { kid: masterKeyFingerprint(masterKey), nodeId: cfg.identity.nodeId, keyFile: layout.masterKey, clock: cfg.clock });
  return masterKey;
}

/** binarystore.xml and the system properties: the primary's copies, mirrored before they are read. */
export async function syncConfigFiles(cfg: NodeConfig, configFiles: ConfigFiles, registry: NodeRegistry): Promise<SyncResult[]> {
  const synced = await configFiles.sync(registry.role === 'PRIMARY');
  for (const r of synced) {
    if (r.action === 'mirrored') cfg.log.warn({ file: r.name, from: r.source, backup: r.backup }, `etc/${r.name} replaced by the copy of node '${r.source}' (changes take effect at restart)`);
    else if (r.action === 'stored') cfg.log.info({ file: r.name, sha256: r.sha256 }, `etc/${r.name} stored in the database for the other nodes`);
  }
  return synced;
}

/** Warns when UI sessions live in one process (`jvm`) while the node runs several workers. */
export function warnProcessLocalSessions(cfg: NodeConfig, props: SystemProperties): void {
  if (props.sessionProvider === 'jvm' && cfg.env.ARCA_WORKER_INDEX !== undefined) {
    cfg.log.warn('artifactory.map.provider.type=jvm keeps UI sessions in one process: with several workers a login works only on the worker that made it; use db or distributed, or --workers 1 behind sticky sessions');
  }
}

/** Before serving: what a crash left in the temp directories goes now (issue 12, item 10). */
export async function sweepTempAtStart(cfg: NodeConfig, housekeeping: TempHousekeeping): Promise<void> {
  await housekeeping.sweep('start').catch((err: unknown) => cfg.log.warn({ err }, 'temp files: the start-up sweep failed'));
}

/** Creates `admin` at the first start: with ARCA_ADMIN_PASSWORD, else a random password written to a file. */
export async function bootstrapAdmin(cfg: NodeConfig, security: SecurityService): Promise<void> {
  const admin = await security.bootstrapAdmin(cfg.env.ARCA_ADMIN_PASSWORD, cfg.layout.initialAdminPassword);
  if (admin.generated) cfg.log.warn(`Created user 'admin' with a random password written to ${cfg.layout.initialAdminPassword}`);
  else if (admin.created) cfg.log.info("Created user 'admin' with the password from ARCA_ADMIN_PASSWORD");
}
