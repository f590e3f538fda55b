import pino, { type Logger } from 'pino';
import type { BinaryProvider } from '../binstore/binary-provider.js';
import { chainBuilder, deriveNodeSecret } from '../binstore/chain/build.js';
import { resolveChain } from '../binstore/chain/resolve.js';
import { stagedBytes } from '../binstore/direct-io.js';
import { binstoreNodeOf } from '../binstore/sharding/sharding-cluster-provider.js';
import { ConfigFiles } from '../cluster/config-files.js';
import { ConfigVersions } from '../cluster/config-versions.js';
import { PgChangeListener } from '../cluster/pg-change-listener.js';
import type { LockManager } from '../cluster/locks/lock-manager.js';
import { openLockManager } from '../cluster/locks/open-lock-manager.js';
import { createLockTable } from '../db/migrations/0003-locks.js';
import { TaskRunner } from '../cluster/tasks/task-runner.js';
import { TaskScheduler } from '../cluster/tasks/task-scheduler.js';
import { TaskService } from '../cluster/tasks/task-service.js';
import { clusterTasks } from './cluster-tasks.js';
import { readBinarystoreXml } from '../config/binarystore.js';
import { resolveDatabaseConfig, type DatabaseConfig } from '../config/db-config.js';
import { ensureHome, homeLayout, type HomeLayout } from '../config/home.js';
import { securePrivatePaths, type ModeChange } from '../config/private-modes.js';
import { ConfigError, loadMasterKey } from '../config/master-key.js';
import { resolveNodeIdentity, type NodeIdentity } from '../config/node-identity.js';
import { NodeRegistry } from '../cluster/node-registry.js';
import { startLicenses } from '../cluster/licenses/node-licenses.js';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkMasterKey, recordedMasterKey } from '../cluster/master-key-check.js';
import { masterKeyFingerprint } from '../core/secrets.js';
import { SystemConfig } from '../config/system-yaml.js';
import { SystemProperties } from '../config/system-properties.js';
import { ContentStore } from '../content/content-store.js';
import { systemClock, type Clock } from '../core/clock.js';
import { binaryTotals } from '../db/binaries.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import type { AppContext } from '../http/app-context.js';
import { readVersionInfo } from './version.js';
import { TempHousekeeping } from './temp-housekeeping.js';
import { setTempOwner } from '../binstore/temp-files.js';
import { MetricsRegistry, type RegistrySnapshot } from '../metrics/registry.js';
import { pendingMd5Count } from '../content/md5-backfill.js';
import { SecurityService } from '../security/security-service.js';
import { openSessionStore } from '../security/session-setup.js';
import { SessionService } from '../security/sessions.js';
import { ArtifactService } from '../services/artifacts.js';
import { remoteAddressPolicy } from '../services/remote/address-policy.js';
import { RepositoryService } from '../services/repositories.js';
import { SystemSettings } from '../services/system-settings.js';

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

export interface NodeContext extends AppContext {
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
  close(): Promise<void>;
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

/** The start-up line of item 11: which paths of the home were made private, and which could not be. */
export function logModeChanges(log: Logger, r: { changed: ModeChange[]; failed: ModeChange[] }): void {
  const fmt = (c: ModeChange) => `${c.path} ${c.from} -> ${c.to}`;
  if (r.changed.length > 0) {
    log.warn({ changed: r.changed }, `data at rest is private: tightened the permissions of ${r.changed.length} path(s) (directories 700, files 600): ${r.changed.map(fmt).join(', ')}`);
  }
  if (r.failed.length > 0) log.error({ failed: r.failed }, `could not make ${r.failed.length} path(s) private (not owned by this user?): ${r.failed.map(fmt).join(', ')}`);
}

/** The composition root: builds every service of one node process from its home directory. */
export async function createNodeContext(options: NodeOptions): Promise<NodeContext> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const init = options.init ?? true;
  const layout = homeLayout(options.home);
  if (init) ensureHome(layout);
  const system = SystemConfig.load(layout.systemYaml, env);
  const identity = resolveNodeIdentity(layout, system);
  // An HA node without a master key may create one only if the cluster has none yet, which
  // the database tells; a standalone node creates its key at first start.
  let masterKey = existsSync(layout.masterKey) || !identity.haEnabled ? loadMasterKey(layout.masterKey, init).key : undefined;
  const dbConfig = resolveDatabaseConfig({ home: layout.home, etcDir: layout.etc, system, masterKey });
  const log = options.logger ?? createLogger(layout, String(system.get('arca.logLevel') ?? 'info'));
  const version = readVersionInfo();
  if (init) for (const w of identity.warnings) log.warn(w);
  if (identity.haEnabled && dbConfig.type === 'sqlite') {
    throw new ConfigError(
      `This node is configured for HA (${identity.source}) but its database is the embedded SQLite, which serves one node only: configure PostgreSQL or MySQL/MariaDB in etc/db.properties`,
    );
  }
  const nodeId = identity.nodeId;
  const tokenMaxExpiresInSecs = system.number('arca.token.nonAdminMaxExpiresInSecs');
  if (!Number.isSafeInteger(tokenMaxExpiresInSecs) || tokenMaxExpiresInSecs < 1) {
    throw new ConfigError(`system.yaml key arca.token.nonAdminMaxExpiresInSecs must be a positive whole number of seconds, got '${tokenMaxExpiresInSecs}'`);
  }
  // One id for this start of the node, shared by its worker processes; temp files carry it.
  const instanceId = env.ARCA_NODE_INSTANCE ?? randomUUID();
  setTempOwner(nodeId, instanceId);
  // Before the database opens: SQLite gives new -wal/-shm files the database file's mode.
  if (init) logModeChanges(log, securePrivatePaths(layout, { sqliteFile: dbConfig.sqliteFile }));

  const database = await openDatabase(dbConfig);
  const versions = new ConfigVersions(database, {
    intervalMs: system.number('arca.propagation.pollIntervalMs'),
    notifications:
      dbConfig.type === 'postgresql'
        ? (hooks) =>
            new PgChangeListener(dbConfig.pg!, {
              ...hooks,
              onEvent: (e) => {
                if (e.type === 'lost') log.warn({ err: e.error, retryMs: e.retryMs }, 'configuration change listener lost its connection; reconnecting');
                else if (e.reconnect) log.info('configuration change listener reconnected');
              },
            })
        : undefined,
  });
  let locks: LockManager | undefined;
  let provider: BinaryProvider | undefined;
  try {
    // Cluster locks on their own connections (the seed's locking pool). Migrations run under
    // one, so nodes starting together migrate once, one after the other.
    await createLockTable(database.db, database.dialect);
    const lockManager = await openLockManager(dbConfig, clock, { poolMaxActive: system.number('arca.locks.poolMaxActive') });
    locks = lockManager;
    if (init) {
      const lease = await lockManager.acquire('arca:migrations', `${nodeId}/${process.pid}`, 15 * 60_000, { timeoutMs: 15 * 60_000, pollMs: 500 });
      try {
        const applied = await migrate(database);
        if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
      } finally {
        await lockManager.release(lease);
      }
    }
    if (!masterKey) {
      const recorded = await recordedMasterKey(database);
      if (recorded || !init) {
        throw new ConfigError(
          `Master key file ${layout.masterKey} is missing and this cluster already has a master key` +
            `${recorded ? ` (recorded by node '${recorded.setByNodeId}')` : ''}: copy etc/security/master.key from the primary (or any existing node) before starting this node`,
        );
      }
      masterKey = loadMasterKey(layout.masterKey, true).key;
      log.info(`Created the cluster's master key at ${layout.masterKey}; copy it to every other node`);
    }
    if (init) await checkMasterKey(database, { kid: masterKeyFingerprint(masterKey), nodeId, keyFile: layout.masterKey, clock });
    await versions.start();
    const registry = new NodeRegistry(database, clock, identity, version, {
      instanceId,
      staleMs: system.number('arca.ha.heartbeatStaleSecs') * 1000,
    });
    if (init) await registry.register();
    // binarystore.xml and the system properties: the primary's copies, mirrored before they are read.
    const configFiles = new ConfigFiles(database, clock, layout.etc, nodeId);
    const synced = init ? await configFiles.sync(registry.role === 'PRIMARY') : [];
    for (const r of synced) {
      if (r.action === 'mirrored') log.warn({ file: r.name, from: r.source, backup: r.backup }, `etc/${r.name} replaced by the copy of node '${r.source}' (changes take effect at restart)`);
      else if (r.action === 'stored') log.info({ file: r.name, sha256: r.sha256 }, `etc/${r.name} stored in the database for the other nodes`);
    }
    const sysProps = SystemProperties.load(layout.systemProperties);
    // The binary store chain of etc/binarystore.xml. artifactory.ha.data.dir: relative store
    // directories live in the shared directory (the seed's NFS option).
    const storeDataDir = identity.haDataDir ?? layout.data;
    const chain = resolveChain(readBinarystoreXml(layout.binarystoreXml), { dataDir: storeDataDir });
    if (init) for (const w of chain.warnings) log.warn(w);
    const metrics = new MetricsRegistry();
    const binstore = chainBuilder(
      {
        dataDir: storeDataDir,
        nodeId,
        clock,
        log: log.child({ component: 'binstore' }),
        peers: async () =>
          identity.haEnabled
            ? (await registry.list()).filter((n) => n.id !== nodeId && n.state === 'RUNNING' && n.url).map((n) => ({ nodeId: n.id, url: n.url! }))
            : [],
        nodeSecret: deriveNodeSecret(masterKey),
        metrics,
      },
      { file: layout.binarystoreXml },
    );
    provider = await binstore.build(chain.root);
    // A shared data directory (artifactory.ha.data.dir) is outside the home: make it private too.
    if (init && identity.haDataDir) {
      logModeChanges(log, securePrivatePaths(layout, { dirs: [storeDataDir, join(storeDataDir, 'tmp')], fileStores: [join(storeDataDir, 'filestore')] }));
    }
    const content = new ContentStore(database, provider, clock, {
      md5Backfill: {
        quietMs: system.number('arca.binarystore.md5DelaySecs') * 1000,
        sweepMs: system.number('arca.binarystore.md5SweepSecs') * 1000,
        onError: (sha1, err) => log.warn({ err, sha1: sha1 || undefined }, 'MD5 backfill: could not compute the MD5 of a binary'),
      },
    });
    const settings = new SystemSettings(database, versions, clock);
    const repos = new RepositoryService(database, versions, clock, remoteAddressPolicy(system));
    const security = new SecurityService(database, settings, versions, clock, { maxFailures: system.number('arca.login.maxFailures'), masterKey, tokenMaxExpiresInSecs });
    const artifacts = new ArtifactService(database, content, clock);
    if (init) await configFiles.recordLoaded(synced);
    const sessionStore = await openSessionStore(sysProps, database, (err) => log.warn({ err: err.message }, 'session store (Redis) error'));
    const sessions = new SessionService(sessionStore, security, database, clock, { nodeId, idleMs: sysProps.sessionTimeoutMs });
    security.useSessions(sessions);
    if (init && sysProps.sessionProvider === 'jvm' && env.ARCA_WORKER_INDEX !== undefined) {
      log.warn('artifactory.map.provider.type=jvm keeps UI sessions in one process: with several workers a login works only on the worker that made it; use db or distributed, or --workers 1 behind sticky sessions');
    }
    const tempHousekeeping = new TempHousekeeping({
      nodeRuns: () => registry.runs(),
      metrics,
      log,
      clock,
      staleMs: system.number('arca.tmp.staleSecs') * 1000,
      intervalMs: system.number('arca.tmp.sweepIntervalSecs') * 1000,
      dirs: [layout.tmp],
      legacyDeadAtStart: !identity.haEnabled,
    });
    // Before serving: what a crash left in the temp directories goes now (issue 12, item 10).
    if (init) await tempHousekeeping.sweep('start').catch((err: unknown) => log.warn({ err }, 'temp files: the start-up sweep failed'));

    if (init) {
      const admin = await security.bootstrapAdmin(env.ARCA_ADMIN_PASSWORD, layout.initialAdminPassword);
      if (admin.generated) log.warn(`Created user 'admin' with a random password written to ${layout.initialAdminPassword}`);
      else if (admin.created) log.info("Created user 'admin' with the password from ARCA_ADMIN_PASSWORD");
    }

    const binCount = metrics.gauge('arca_binaries_count', 'Binaries in the store');
    const binBytes = metrics.gauge('arca_binaries_bytes', 'Bytes of binaries in the store');
    const md5Pending = metrics.gauge('arca_binaries_md5_pending', 'Binaries whose MD5 the background backfill has still to compute');
    const pool = metrics.gauge('arca_db_pool_connections', 'Database pool connections by state');
    const staged = metrics.counter('arca_binstore_staged_bytes_total', 'Bytes of uploads larger than 1 MiB staged on local disk, by io: direct (O_DIRECT) or buffered (page cache)');
    metrics.addCollector(async () => {
      const totals = await binaryTotals(database.db);
      binCount.set(totals.count);
      binBytes.set(totals.bytes);
      md5Pending.set(await pendingMd5Count(database));
      const s = database.poolStats();
      pool.set(s.total - s.idle, { state: 'active' });
      pool.set(s.idle, { state: 'idle' });
      pool.set(s.waiting, { state: 'waiting' });
      pool.set(s.max, { state: 'max' });
      const bytes = stagedBytes();
      staged.set(bytes.direct, { io: 'direct' });
      staged.set(bytes.buffered, { io: 'buffered' });
    });
    const local = () => metrics.snapshot();

    // The Cluster License Manager (off without a license public key): take a license now.
    const licenses = await startLicenses({ database, clock, system, layout, identity, versions, log, init });

    // Cluster-wide tasks: every process can run one on demand; the scheduler is started only
    // in the process that runs the node's singletons (server.ts).
    const tasks = await clusterTasks({ database, content, versions, clock, system, identity, layout, version, masterKey, systemProperties: sysProps, sessions });
    const maxAttempts = system.number('arca.tasks.maxAttempts');
    const taskLog = log.child({ component: 'tasks' });
    const runner = new TaskRunner(database, lockManager, clock, new Map(tasks.map((t) => [t.name, t])), {
      nodeId,
      leaseMs: system.number('arca.tasks.leaseSecs') * 1000,
      maxAttempts,
      retentionMs: system.number('arca.tasks.runRetentionDays') * 86_400_000,
      timers: true,
      log: taskLog,
    });
    const scheduler = new TaskScheduler(database, locks, clock, tasks, runner, {
      self: { nodeId, taskAffinity: identity.taskAffinity, explicit: identity.taskAffinityExplicit !== false, primary: identity.primary },
      tickMs: system.number('arca.tasks.tickSecs') * 1000,
      maxAttempts,
      log: taskLog,
    });
    const taskService = new TaskService(database, clock, tasks, scheduler);
    const handOverMs = system.number('arca.shutdownTimeoutSecs') * 1000;

    const ctx: NodeContext = {
      node: { nodeId, home: layout.home, dataDir: layout.data, startTime: clock.now(), version },
      state: { ready: false, draining: false },
      clock,
      log,
      database,
      versions,
      content,
      repos,
      artifacts,
      security,
      settings,
      metrics,
      masterKey,
      layout,
      system,
      dbConfig,
      identity,
      registry,
      configFiles,
      systemProperties: sysProps,
      locks: lockManager,
      tempHousekeeping,
      tasks: taskService,
      licenses,
      // The internal node API serves this node's local shard when the chain has a sharding-cluster provider.
      binstoreNode: binstoreNodeOf(binstore),
      async collectMetrics() {
        await metrics.collect();
        return options.collectMetrics ? options.collectMetrics(local) : local();
      },
      runGc: async () => {
        const run = await taskService.wait(await taskService.request('gc', undefined, null), 3_600_000);
        return { ...run.counts, runId: run.id, status: run.status, nodeId: run.nodeId };
      },
      async close() {
        await scheduler.stop(handOverMs);
        await tempHousekeeping.stop();
        await content.md5Backfill.stop();
        // Only the process that registered the node gives its license back.
        await (init ? licenses.release() : licenses.stop()).catch((err: unknown) => log.warn({ err }, 'returning the license to the pool failed'));
        await provider?.close?.().catch((err: unknown) => log.warn({ err }, 'closing the binary store failed'));
        await lockManager.close();
        await versions.stop();
        await sessions.close().catch(() => undefined);
        await database.close();
      },
    };
    return ctx;
  } catch (err) {
    await provider?.close?.().catch(() => undefined);
    await versions.stop().catch(() => undefined);
    await locks?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
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
