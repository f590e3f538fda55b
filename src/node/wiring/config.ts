import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { resolveDatabaseConfig, type DatabaseConfig } from '../../config/db-config.js';
import { ensureHome, homeLayout, type HomeLayout } from '../../config/home.js';
import { loadMasterKey } from '../../config/master-key.js';
import { ConfigError } from '../../core/errors.js';
import { resolveNodeIdentity, type NodeIdentity } from '../../config/node-identity.js';
import { SystemConfig } from '../../config/system-yaml.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { VersionInfo } from '../../http/app-context.js';
import type { RegistrySnapshot } from '../../metrics/registry.js';
import { readVersionInfo } from '../version.js';

export interface NodeOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Run start-up duties: create the home, migrate, create the admin. False in worker processes. */
  init?: boolean;
  logger?: Logger;
  /** Collect metrics of every process (set by the worker supervisor). */
  collectMetrics?: (local: () => RegistrySnapshot) => Promise<RegistrySnapshot>;
}

/** What one node process knows before it opens anything: its home, configuration and identity. */
export interface NodeConfig {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** This process runs the node's start-up duties (false in worker processes). */
  init: boolean;
  layout: HomeLayout;
  system: SystemConfig;
  identity: NodeIdentity;
  dbConfig: DatabaseConfig;
  log: Logger;
  version: VersionInfo;
  /** One id for this start of the node, shared by its worker processes; temp files carry it. */
  instanceId: string;
  /**
   * The key of `etc/security/master.key`. Undefined on an HA node that has none yet: it may
   * create one only if the cluster has none, which the database tells (see `settleMasterKey`).
   */
  keyFromFile: Buffer | undefined;
  /** `arca.token.nonAdminMaxExpiresInSecs`, checked. */
  tokenMaxExpiresInSecs: number;
}

export function createLogger(layout: HomeLayout, level: string): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream([
      { level: level as pino.Level, stream: pino.destination({ dest: 1, sync: false }) },
      { level: level as pino.Level, stream: pino.destination({ dest: `${layout.logs}/arca.log`, append: true, mkdir: true, sync: false, mode: 0o600 }) },
    ]),
  );
}

/**
 * Config and home: the home layout (created by the first process), system.yaml, the node's
 * identity (its warnings logged once, by the first process), the master key file (a
 * standalone node creates its key at first start), the database settings and the logger.
 * Refuses a configuration that cannot run.
 */
export function loadNodeConfig(options: NodeOptions): NodeConfig {
  const env = options.env ?? process.env;
  const init = options.init ?? true;
  const layout = homeLayout(options.home);
  if (init) ensureHome(layout);
  const system = SystemConfig.load(layout.systemYaml, env);
  const identity = resolveNodeIdentity(layout, system);
  const keyFromFile = existsSync(layout.masterKey) || !identity.haEnabled ? loadMasterKey(layout.masterKey, init).key : undefined;
  const dbConfig = resolveDatabaseConfig({ home: layout.home, etcDir: layout.etc, system, masterKey: keyFromFile });
  const log = options.logger ?? createLogger(layout, String(system.get('arca.logLevel') ?? 'info'));
  if (init) for (const w of identity.warnings) log.warn(w);
  if (identity.haEnabled && dbConfig.type === 'sqlite') {
    throw new ConfigError(
      `This node is configured for HA (${identity.source}) but its database is the embedded SQLite, which serves one node only: configure PostgreSQL or MySQL/MariaDB in etc/db.properties`,
    );
  }
  const tokenMaxExpiresInSecs = system.number('arca.token.nonAdminMaxExpiresInSecs');
  if (!Number.isSafeInteger(tokenMaxExpiresInSecs) || tokenMaxExpiresInSecs < 1) {
    throw new ConfigError(`system.yaml key arca.token.nonAdminMaxExpiresInSecs must be a positive whole number of seconds, got '${tokenMaxExpiresInSecs}'`);
  }
  return {
    env,
    clock: options.clock ?? systemClock,
    init,
    layout,
    system,
    identity,
    dbConfig,
    log,
    version: readVersionInfo(),
    instanceId: env.ARCA_NODE_INSTANCE ?? randomUUID(),
    keyFromFile,
    tokenMaxExpiresInSecs,
  };
}
