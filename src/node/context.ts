import { setTempOwner } from '../binstore/temp-files.js';
import { ConfigFiles } from '../cluster/config-files.js';
import type { LockManager } from '../cluster/locks/lock-manager.js';
import type { DatabaseConfig } from '../config/db-config.js';
import type { HomeLayout } from '../config/home.js';
import type { NodeIdentity } from '../config/node-identity.js';
import { SystemProperties } from '../config/system-properties.js';
import type { SystemConfig } from '../config/system-yaml.js';
import type { AppContext } from '../http/app-context.js';
import { SystemSettings } from '../services/system-settings.js';
import { Lifecycle } from './lifecycle.js';
import {
  bootstrapAdmin,
  migrateUnderLock,
  securePrivateHome,
  secureSharedDataDir,
  settleMasterKey,
  sweepTempAtStart,
  syncConfigFiles,
  warnProcessLocalSessions,
} from './start-up.js';
import type { TempHousekeeping } from './temp-housekeeping.js';
import { clusterLicenses, nodeRegistry, openClusterLocks } from './wiring/cluster.js';
import { loadNodeConfig, type NodeOptions } from './wiring/config.js';
import { configVersions, openNodeDatabase } from './wiring/database.js';
import type { Database } from '../db/database.js';
import type { ContentStore } from '../content/content-store.js';
import { nodeMetrics, nodeMetricsCollector } from './wiring/metrics.js';
import { securityService } from './wiring/security.js';
import { nodeServices } from './wiring/services.js';
import { contentStore, openBinaryStore, storeDataDir, tempHousekeeping } from './wiring/storage.js';
import { clusterTaskService, gcOnDemand } from './wiring/tasks.js';

export { createLogger, type NodeOptions } from './wiring/config.js';

export interface NodeContext extends AppContext {
  /** The database and the content store: the services use them; the HTTP edge never sees them (AppContext). */
  database: Database;
  content: ContentStore;
  layout: HomeLayout;
  system: SystemConfig;
  dbConfig: DatabaseConfig;
  identity: NodeIdentity;
  /** `etc/artifactory.system.properties` as this node loaded it (after mirroring). */
  systemProperties: SystemProperties;
  /** Cluster locks on their own connections (the seed's locking pool), for cross-node critical sections. */
  locks: LockManager;
  /** The temp-file sweep (started with the node's singletons). */
  tempHousekeeping: TempHousekeeping;
  /** Closes everything the node opened, newest first (see lifecycle.ts); runs once. */
  close(): Promise<void>;
}

/**
 * The composition root: builds every service of one node process from its home directory,
 * one wiring step after another (src/node/wiring/), with the first process's start-up duties
 * (start-up.ts) between them. Each step that opens something pushes its close on one
 * lifecycle stack, which unwinds both when a later step fails and when the node stops.
 */
export async function createNodeContext(options: NodeOptions): Promise<NodeContext> {
  const cfg = loadNodeConfig(options);
  const { init, clock, log, layout, identity } = cfg;
  setTempOwner(identity.nodeId, cfg.instanceId);
  if (init) securePrivateHome(cfg);

  const life = new Lifecycle(log);
  try {
    // Database, configuration versions and cluster locks; the schema and the master key.
    const database = life.own('the database', await openNodeDatabase(cfg));
    const versions = life.own('the configuration change listener', configVersions(cfg, database));
    const locks = life.own('the cluster locks', await openClusterLocks(cfg, database));
    if (init) await migrateUnderLock(cfg, database, locks);
    const masterKey = await settleMasterKey(cfg, database);
    await versions.start();

    // Cluster membership and the mirrored configuration files.
    const registry = nodeRegistry(cfg, database);
    if (init) await registry.register();
    const configFiles = new ConfigFiles(database, clock, layout.etc, identity.nodeId);
    const synced = init ? await syncConfigFiles(cfg, configFiles, registry) : [];
    const systemProperties = SystemProperties.load(layout.systemProperties);

    // Storage: the binary store chain and the content store on it (the chain reports into the metrics).
    const metrics = nodeMetrics(database);
    const binstore = life.own('the binary store', await openBinaryStore(cfg, registry, masterKey, metrics));
    if (init) secureSharedDataDir(cfg);
    const content = life.own('the MD5 backfill', contentStore(cfg, database, binstore.provider));

    // Services: settings, repositories, artifacts, the formats' services, security.
    const settings = new SystemSettings(database, versions, clock);
    const store = { type: binstore.provider.type, dir: storeDataDir(cfg) };
    const services = life.own('the upstream connections and the listing thread', nodeServices(cfg, { database, versions, content, masterKey, locks, systemProperties, store, settings, metrics }));
    await services.replicationCapture.start();
    if (init) await configFiles.recordLoaded(synced);
    const { security, sessions } = life.own('the UI session store', await securityService(cfg, { database, versions, settings, masterKey, systemProperties }));
    if (init) warnProcessLocalSessions(cfg, systemProperties);

    // Housekeeping and the first start's user.
    const housekeeping = life.own('the temp-file sweep', tempHousekeeping(cfg, registry, metrics));
    if (init) await sweepTempAtStart(cfg, housekeeping);
    if (init) await bootstrapAdmin(cfg, security);

    // Licenses and cluster tasks.
    const licenses = life.own('the license', await clusterLicenses(cfg, database, versions));
    const tasks = life.own('the task scheduler', await clusterTaskService(cfg, { database, content, versions, masterKey, systemProperties, sessions, locks, replication: services.replicationRunner }));

    return {
      node: { nodeId: identity.nodeId, home: layout.home, dataDir: layout.data, startTime: clock.now(), version: cfg.version, database: database.dialect, binaryStore: binstore.chain },
      state: { ready: false, draining: false },
      clock,
      log,
      database,
      versions,
      content,
      ...services,
      security,
      settings,
      metrics,
      masterKey,
      layout,
      system: cfg.system,
      dbConfig: cfg.dbConfig,
      identity,
      registry,
      configFiles,
      systemProperties,
      locks,
      tempHousekeeping: housekeeping,
      tasks,
      licenses,
      binstoreNode: binstore.nodeApi,
      collectMetrics: nodeMetricsCollector(metrics, options.collectMetrics),
      runGc: gcOnDemand(tasks),
      close: () => life.close(),
    };
  } catch (err) {
    await life.close();
    throw err;
  }
}

/** The start-up banner, in the seed's format (`HA Node ID: '<id>'`). */
export function banner(ctx: NodeContext): string {
  const v = ctx.node.version;
  return [
    '',
    '    _                      ',
    '   / \\   _ __ ___ __ _     ',
    "  / _ \\ | '__/ __/ _` |    ",
    ' / ___ \\| | | (_| (_| |    ',
    '/_/   \\_\\_|  \\___\\__,_|    ',
    '',
    `Version: ${v.version}`,
    `Revision: ${v.revision}`,
    `Release date: ${v.releaseDate}`,
    `Arca Home: '${ctx.layout.home}'`,
    `Arca data dir: '${ctx.layout.data}'`,
    `Arca backup dir: '${ctx.layout.backup}'`,
    `Database: ${ctx.dbConfig.displayUrl} (from ${ctx.dbConfig.source})`,
    `Node: ${ctx.identity.haEnabled ? `HA, role ${ctx.registry.role}` : 'standalone'}, task affinity ${ctx.identity.taskAffinity}${ctx.identity.contextUrl ? `, context URL ${ctx.identity.contextUrl}` : ''}`,
    `HA Node ID: '${ctx.node.nodeId}'`,
    '',
  ].join('\n');
}
