import { isAbsolute } from 'node:path';
import type { ConfigVersions } from '../cluster/config-versions.js';
import { CronError } from '../cluster/tasks/cron.js';
import { cron, everyMs, type Schedule } from '../cluster/tasks/schedule.js';
import type { ClusterTask } from '../cluster/tasks/types.js';
import type { HomeLayout } from '../config/home.js';
import type { NodeIdentity } from '../config/node-identity.js';
import type { SystemConfig } from '../config/system-yaml.js';
import type { ContentStore } from '../content/content-store.js';
import type { Clock } from '../core/clock.js';
import { ArcaError, ConfigError } from '../core/errors.js';
import { masterKeyFingerprint } from '../core/secrets.js';
import type { Database } from '../db/database.js';
import type { VersionInfo } from '../http/app-context.js';
import { exportBackup } from '../services/backup/backup-export.js';
import { importBackup } from '../services/backup/backup-import.js';
import { BuildIndex } from '../services/builds/build-index.js';
import { backupDirWarning } from '../services/backup/storage-location.js';
import type { SystemProperties } from '../config/system-properties.js';
import { scrubStore } from '../content/scrub.js';
import { collectOciGarbage } from '../formats/oci/service/oci-gc.js';
import { sessionCleanupTask } from '../security/session-cleanup-task.js';
import type { SessionService } from '../security/sessions.js';
import { SystemSettings } from '../services/system-settings.js';
import { pruneTrash } from '../services/trash/trash-can.js';
import type { ReplicationRunner } from '../services/replication/runner.js';

/** What the cluster tasks of a node may use (built by the composition root). */
export interface TaskDeps {
  database: Database;
  content: ContentStore;
  versions: ConfigVersions;
  clock: Clock;
  system: SystemConfig;
  identity: NodeIdentity;
  layout: HomeLayout;
  version: VersionInfo;
  masterKey: Buffer;
  /** `etc/artifactory.system.properties` (the session cleanup's cron). */
  systemProperties: SystemProperties;
  sessions: SessionService;
  /** The replication runner (the `replication` task's scheduled runs); absent: no replication task. */
  replication?: ReplicationRunner;
}

/** GC, backup and import never overlap anywhere in the cluster (GC must not free what they copy). */
const STORAGE = 'storage';

/** `artifactory.ha.backup.dir` (or `artifactory.node.haBackupDir`), else the home's backup/ directory. */
export function backupDir(deps: Pick<TaskDeps, 'identity' | 'layout'>): string {
  return deps.identity.haBackupDir ?? deps.layout.backup;
}

function objectBody(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ArcaError('BAD_REQUEST', 'Send the task parameters as a JSON object');
  return raw as Record<string, unknown>;
}

function optionalPath(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !isAbsolute(v)) throw new ArcaError('BAD_REQUEST', `'${field}' must be an absolute path`);
  return v;
}

export function gcTask(deps: TaskDeps): ClusterTask {
  const intervalSecs = deps.system.number('arca.gc.intervalSecs');
  const graceMs = deps.system.number('arca.gc.graceSecs') * 1000;
  return {
    name: 'gc',
    description: 'Garbage collection: removes untagged manifests and unreferenced blobs of docker/oci repositories, then binaries no item references (older than arca.gc.graceSecs), orphan files and stale uploads',
    group: STORAGE,
    schedule: intervalSecs > 0 ? everyMs(intervalSecs * 1000) : undefined,
    async run(ctx) {
      // Registry repositories first: what it unreferences is freed by the content store's pass.
      const oci = await collectOciGarbage(deps, graceMs, ctx.signal);
      const result = await deps.content.collectGarbage(graceMs, ctx.signal);
      return { counts: { ...oci, ...result } };
    },
  };
}

export function scrubTask(deps: TaskDeps): ClusterTask {
  const intervalSecs = deps.system.number('arca.binarystore.scrubIntervalSecs');
  return {
    name: 'scrub',
    description: 'Integrity scrub: verifies the checksum of every stored binary (every copy on redundant stores), repairs a corrupt or missing copy from a good one, and reports what could not be restored',
    group: STORAGE,
    schedule: intervalSecs > 0 ? everyMs(intervalSecs * 1000) : undefined,
    async run(ctx) {
      const { problems, ...counts } = await scrubStore(deps.database, deps.content.provider, { signal: ctx.signal });
      if (counts.unrecoverable > 0) ctx.log.error({ unrecoverable: counts.unrecoverable, problems }, 'scrub: binaries that no copy could restore');
      return { counts, result: { problems } };
    },
  };
}

/** Balancing of redundant binary stores: restores `redundancy` copies of every binary, removes safe surplus copies. */
export function balanceTask(deps: TaskDeps): ClusterTask {
  const provider = deps.content.provider;
  const intervalSecs = deps.system.number('arca.binarystore.balanceIntervalSecs');
  return {
    name: 'binstore-balance',
    description: 'Binary store balancing: copies binaries that have fewer copies than the redundancy (a node left, a write kept fewer copies under lenientLimit) and removes surplus copies once every shard answers',
    group: STORAGE,
    schedule: provider.balance && intervalSecs > 0 ? everyMs(intervalSecs * 1000) : undefined,
    async run(ctx) {
      if (!provider.balance) return { counts: {}, result: { skipped: `the '${provider.type}' binary store keeps one copy of each binary: nothing to balance` } };
      const result = await provider.balance(ctx.signal);
      const counts = Object.fromEntries(Object.entries(result).filter((e): e is [string, number] => typeof e[1] === 'number'));
      ctx.log.info(counts, 'binary store balanced');
      return { counts };
    },
  };
}

/** The trash can's retention (the seed's TrashcanPruner): what was trashed retentionPeriodDays ago goes, a bounded amount per run. */
export function trashPruneTask(deps: TaskDeps): ClusterTask {
  const intervalSecs = deps.system.number('arca.trash.pruneIntervalSecs');
  const maxEntries = deps.system.number('arca.trash.pruneMaxItems');
  const settings = new SystemSettings(deps.database, deps.versions, deps.clock);
  return {
    name: 'trash-prune',
    description: 'Trash can retention: deletes, oldest first, the items of auto-trashcan trashed more than trashcanConfig.retentionPeriodDays ago (at most arca.trash.pruneMaxItems per run); GC then frees their binaries',
    group: STORAGE,
    schedule: intervalSecs > 0 ? everyMs(intervalSecs * 1000) : undefined,
    async run(ctx) {
      const out = await pruneTrash(deps.database, deps.clock, settings, { maxEntries, signal: ctx.signal, fence: ctx.fence });
      return { counts: { files: out.files, folders: out.folders, entries: out.entries }, result: { more: out.more } };
    },
  };
}

function cronKey(deps: TaskDeps, key: string): Schedule | undefined {
  const expression = deps.system.string(key) ?? '';
  if (expression.trim() === '') return undefined;
  try {
    return cron(expression);
  } catch (err) {
    if (err instanceof CronError) throw new ConfigError(`system.yaml: ${key}: ${err.message}`);
    throw err;
  }
}

export function backupTask(deps: TaskDeps): ClusterTask<{ dir?: string }> {
  const schedule = cronKey(deps, 'arca.backup.cron');
  const retain = deps.system.number('arca.backup.retentionCount');
  const chain = { incremental: deps.system.bool('arca.backup.incremental'), fullEvery: deps.system.number('arca.backup.fullEvery') };
  if (!Number.isInteger(chain.fullEvery) || chain.fullEvery < 0) throw new ConfigError(`system.yaml: arca.backup.fullEvery: '${chain.fullEvery}' is not a whole number of backups (0 or more)`);
  return {
    name: 'backup',
    description: 'Backup: configuration, security, metadata and binaries to the backup directory (artifactory.ha.backup.dir); on demand also to {"dir": "/path"}',
    group: STORAGE,
    schedule,
    params: (raw) => ({ dir: optionalPath(objectBody(raw), 'dir') }),
    async run(ctx, params) {
      const dir = params?.dir ?? backupDir(deps);
      const warning = backupDirWarning({ haEnabled: deps.identity.haEnabled, configured: params?.dir ?? deps.identity.haBackupDir, dir });
      if (warning) ctx.log.warn(warning);
      const out = await exportBackup(deps, {
        dir,
        runId: ctx.runId,
        nodeId: ctx.nodeId,
        arcaVersion: deps.version.version,
        masterKeyFingerprint: masterKeyFingerprint(deps.masterKey),
        // Retention and chains apply to the backup directory, never to a directory named for one export.
        retain: params?.dir ? 0 : retain,
        chain: params?.dir ? undefined : chain,
        signal: ctx.signal,
      });
      return { counts: { ...out.counts }, result: { name: out.name, path: out.path, kind: out.kind, removed: out.removed, ...(warning ? { warning } : {}) } };
    },
  };
}

export function importTask(deps: TaskDeps): ClusterTask<{ path: string }> {
  return {
    name: 'import',
    description: 'Import: restores a backup ({"path": "<dir>" | "<name in the backup directory>" | "latest"}), replacing configuration, security and metadata; all or nothing',
    group: STORAGE,
    params: (raw) => {
      const path = objectBody(raw).path;
      if (typeof path !== 'string' || path.trim() === '') throw new ArcaError('BAD_REQUEST', "Name the backup to import: {\"path\": \"<backup directory>\"}, a backup's name, or \"latest\"");
      if (!isAbsolute(path) && /[\\/]|^\.\.?$/.test(path)) throw new ArcaError('BAD_REQUEST', "'path' is an absolute path or the name of a backup in the backup directory");
      return { path };
    },
    async run(ctx, params) {
      const out = await importBackup(deps, {
        path: params.path,
        backupDir: backupDir(deps),
        masterKeyFingerprint: masterKeyFingerprint(deps.masterKey),
        signal: ctx.signal,
        fence: ctx.fence,
      });
      // The build index is derived from the build items, which an import writes without deploys.
      const builds = await new BuildIndex(deps.database, deps.content).rebuildAll();
      return { counts: { ...out.counts, buildInfoFiles: builds }, result: { name: out.name, path: out.path } };
    },
  };
}

/**
 * Replication (issue 16): each tick starts the push and pull runs that are due (their cronExp,
 * or a run request) and not blocked, and waits for them. Exclusive cluster-wide: a target never
 * has two runs at once; a run whose node died is taken over by the next tick on another node.
 */
export function replicationTask(deps: TaskDeps, runner: ReplicationRunner): ClusterTask {
  const intervalSecs = deps.system.number('arca.replication.checkIntervalSecs');
  return {
    name: 'replication',
    description: 'Replication: starts the scheduled push and pull runs that are due (cronExp, or POST /api/replication/execute) and not blocked, records each in its replication status',
    schedule: intervalSecs > 0 ? everyMs(Math.max(1, intervalSecs) * 1000) : undefined,
    async run(ctx) {
      return runner.tick({ signal: ctx.signal, log: ctx.log, fence: (trx) => ctx.fence(trx) });
    },
  };
}

/**
 * The cluster-wide tasks of a node, in one typed list: the registration point. A subsystem
 * adds its task here (e.g. the UI session cleanup of `artifactory.map.provider.type=db`,
 * whose cron comes from the database, hence async), and what it needs to TaskDeps.
 */
export async function clusterTasks(deps: TaskDeps): Promise<ClusterTask[]> {
  // Only with artifactory.map.provider.type=db: other session stores need no cluster task.
  const sessionCleanup = await sessionCleanupTask(deps.systemProperties, deps.database, deps.sessions);
  return [gcTask(deps), trashPruneTask(deps), backupTask(deps), importTask(deps), scrubTask(deps), balanceTask(deps), ...(sessionCleanup ? [sessionCleanup] : []), ...(deps.replication ? [replicationTask(deps, deps.replication)] : [])] as ClusterTask[];
}
