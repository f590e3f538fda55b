import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import YAML from 'yaml';
import { ConfigError } from '../core/errors.js';

type Scalar = string | number | boolean | undefined;

export interface KnownKey {
  path: string;
  default: Scalar;
  /** The seed / JFrog key this mirrors, when there is one. */
  mirrors?: string;
  description: string;
}

/** Every key of `etc/system.yaml` Arca reads; each may be overridden from the environment (see envNamesFor). */
export const SYSTEM_YAML_KEYS: KnownKey[] = [
  { path: 'configVersion', default: 1, mirrors: 'configVersion', description: 'Schema marker of the file.' },
  { path: 'shared.node.id', default: undefined, mirrors: 'shared.node.id', description: 'Unique node id; defaults to the host name.' },
  { path: 'shared.node.ip', default: undefined, mirrors: 'shared.node.ip', description: 'Address the node advertises to its peers.' },
  { path: 'shared.node.haEnabled', default: false, mirrors: 'shared.node.haEnabled', description: 'Run as a member of an HA cluster.' },
  { path: 'shared.node.taskAffinity', default: 'any', mirrors: 'shared.node.taskAffinity', description: '`any` lets this node run cluster-wide tasks; `none` keeps it out.' },
  { path: 'shared.node.primary', default: undefined, mirrors: 'shared.node.primary', description: 'Legacy primary flag.' },
  { path: 'shared.node.contextUrl', default: undefined, mirrors: 'context.url (ha-node.properties)', description: 'URL peers use to reach this node, when there is no ha-node.properties.' },
  { path: 'artifactory.node.haDataDir', default: undefined, mirrors: 'artifactory.node.haDataDir / artifactory.ha.data.dir', description: 'Shared binary store directory.' },
  { path: 'artifactory.node.haBackupDir', default: undefined, mirrors: 'artifactory.node.haBackupDir / artifactory.ha.backup.dir', description: 'Shared backup directory.' },
  { path: 'shared.database.type', default: undefined, mirrors: 'shared.database.type', description: '`sqlite` or `postgresql`; when set it wins over db.properties.' },
  { path: 'shared.database.driver', default: undefined, mirrors: 'shared.database.driver', description: 'Accepted and ignored (JDBC driver class).' },
  { path: 'shared.database.url', default: undefined, mirrors: 'shared.database.url', description: 'JDBC or native URL of the database.' },
  { path: 'shared.database.username', default: undefined, mirrors: 'shared.database.username', description: 'Database user.' },
  { path: 'shared.database.password', default: undefined, mirrors: 'shared.database.password', description: 'Database password; may be encrypted with `arca encrypt`.' },
  { path: 'shared.database.maxOpenConnections', default: undefined, mirrors: 'shared.database.maxOpenConnections', description: 'Pool size; overrides db.properties `pool.max.active`.' },
  { path: 'artifactory.port', default: 8081, mirrors: 'artifactory.port', description: 'HTTP port of the node.' },
  { path: 'arca.host', default: '0.0.0.0', description: 'Address the HTTP server binds to.' },
  { path: 'arca.workers', default: 0, description: 'Worker processes; 0 means one per CPU.' },
  {
    path: 'arca.workerHeapMb',
    default: 128,
    description: "Initial old-generation size of each worker process's V8 heap in MiB (node --initial-old-space-size), so streaming large blobs does not set off a full garbage collection every few megabytes; 0: V8's default.",
  },
  { path: 'arca.logLevel', default: 'info', description: 'pino log level.' },
  { path: 'arca.gc.intervalSecs', default: 14400, mirrors: 'gcConfig cron `0 0 /4 * * ?`', description: 'How often garbage collection of unreferenced binaries runs.' },
  { path: 'arca.replication.checkIntervalSecs', default: 10, mirrors: 'the seed checks replication cron expressions continuously', description: 'How often the replication cluster task looks for due push and pull runs (each replication\'s cronExp, or a POST /api/replication/execute request); 0: only on demand.' },
  { path: 'arca.replication.parallelRequests', default: 8, mirrors: 'no seed equivalent', description: 'Requests a replication sends to one target at once: files of a scheduled push or pull run, events of one delivery worker (1–64).' },
  { path: 'arca.replication.eventLeaseSecs', default: 30, mirrors: 'no seed equivalent', description: 'How long a node holds the replication events it claimed before another node may take them over (renewed while it delivers); after a node dies, its events wait at most this long.' },
  { path: 'arca.trash.pruneIntervalSecs', default: 14400, mirrors: 'TrashcanPruner, run with each GC (`0 0 /4 * * ?`)', description: 'How often the trash-prune task deletes what was trashed more than trashcanConfig.retentionPeriodDays ago; 0: on demand only.' },
  { path: 'arca.trash.pruneMaxItems', default: 100000, description: 'Trash entries one trash-prune run deletes at most (oldest first); the rest waits for the next run.' },
  { path: 'arca.gc.graceSecs', default: 3600, description: 'A binary younger than this is never collected.' },
  { path: 'arca.gc.orphanSweepIntervalSecs', default: 86400, description: 'How often garbage collection also walks every stored file for files with no binaries row (left by a crash between a file\'s rename and its commit); sooner after a failed commit. The rest of GC costs what changed, this walk what is stored.' },
  { path: 'arca.binarystore.balanceIntervalSecs', default: 600, description: 'How often the binstore-balance task restores the redundancy of sharding and cluster-file-system stores (copies missing copies, removes surplus ones); 0: on demand only.' },
  { path: 'arca.binarystore.md5DelaySecs', default: 1, description: 'Registry blobs are stored without an MD5 and the node computes it in the background once no blob has arrived for this long (so a push is not slowed down by it).' },
  { path: 'arca.binarystore.md5SweepSecs', default: 300, description: 'How often each node looks for binaries whose MD5 is still pending (left by a node that stopped) and computes it.' },
  { path: 'arca.binarystore.scrubIntervalSecs', default: 604800, description: 'How often the scrub task verifies every stored binary\'s checksum and repairs bad copies from redundant ones; 0: on demand only (`arca binarystore verify`).' },
  { path: 'arca.tmp.sweepIntervalSecs', default: 600, description: 'How often each node removes the temp files (partial uploads, staging files) that are provably dead: of a process gone from this host, of a node that is not running, or untouched for arca.tmp.staleSecs; 0: only at start.' },
  { path: 'arca.tmp.staleSecs', default: 86400, description: 'A temp file untouched this long is removed by the sweep, whoever wrote it (also legacy and foreign-host files whose owner cannot be checked).' },
  { path: 'arca.shutdownTimeoutSecs', default: 30, description: 'How long SIGTERM waits for in-flight requests.' },
  {
    path: 'arca.shutdownDrainSecs',
    default: undefined,
    description: 'On SIGTERM, how long readiness answers 503 while the node still serves, before it stops listening; unset: 5 on an HA node, 0 standalone.',
  },
  { path: 'arca.login.maxFailures', default: 5, description: 'Failed logins before a user is locked for a growing period.' },
  { path: 'arca.password.minLength', default: 1, description: 'Fewest characters of a new user password (1–1024; the UI shows and checks the rule, the API refuses with a 400).' },
  { path: 'arca.password.minClasses', default: 1, description: 'How many of lower-case, upper-case, digit and other characters a new user password mixes (1–4).' },
  {
    path: 'arca.token.nonAdminMaxExpiresInSecs',
    default: 31536000,
    mirrors: 'token.max-expiry (Access) / artifactory.access.token.non.admin.max.expires.in',
    description: 'Longest lifetime, in seconds, of an access token a non-admin creates or refreshes (one year); only administrators get tokens that never expire.',
  },
  { path: 'arca.ha.heartbeatStaleSecs', default: 30, mirrors: 'artifactory.ha.heartbeat.staleSecs', description: 'A RUNNING node whose heartbeat is older shows as UNAVAILABLE.' },
  {
    path: 'arca.license.publicKey',
    default: undefined,
    description:
      'Ed25519 public key (PEM, or base64 of its DER on one line) that cluster licenses must be signed with; unset: etc/security/license-public.pem if present, else the license manager is off and nodes need no license.',
  },
  { path: 'arca.license.expiryWindowDays', default: 7, description: 'A node whose license expires within this many days switches to a free license that expires later.' },
  { path: 'arca.license.checkIntervalSecs', default: 5, description: 'How often each node checks its license against the pool (takes a free one, swaps an expiring one, returns those of dead nodes).' },
  { path: 'arca.propagation.pollIntervalMs', default: 1000, description: 'How often each process reads the configuration version table (the fallback of PostgreSQL LISTEN/NOTIFY).' },
  { path: 'arca.locks.poolMaxActive', default: 0, mirrors: 'the locking pool (defaults to pool.max.active)', description: 'Connections of the database-lock pool of each process; 0 means pool.max.active.' },
  { path: 'arca.tasks.tickSecs', default: 5, description: 'How often each node looks for cluster tasks that are due, queued or left by a dead node.' },
  { path: 'arca.tasks.leaseSecs', default: 30, description: 'Lease of a running cluster task, renewed every third; another node takes the task over this long after its node died.' },
  { path: 'arca.tasks.maxAttempts', default: 3, description: 'Runs of one scheduled slot or request, counting takeovers and hand-overs.' },
  { path: 'arca.tasks.runRetentionDays', default: 30, description: 'Finished task runs older than this are deleted.' },
  { path: 'arca.backup.cron', default: '0 0 2 * * ?', mirrors: 'backups cronExp', description: 'When the backup runs (UTC); empty disables the schedule.' },
  {
    path: 'arca.remote.deniedAddresses',
    default: undefined,
    description:
      'Where remote repositories may not connect (a YAML list, or one string separated by commas): addresses, CIDR networks, host names and *.domain wildcards; checked when a remote is saved, after DNS resolution and on every redirect. Unset: link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, metadata.google.internal, metadata.azure.internal, metadata, instance-data, instance-data.ec2.internal); an empty string denies nothing.',
  },
  { path: 'arca.remote.allowedAddresses', default: undefined, description: 'Exceptions to arca.remote.deniedAddresses, in the same form: an address, network or host name listed here may be connected to even when the deny list covers it.' },
  { path: 'arca.backup.retentionCount', default: 7, mirrors: 'backups retentionPeriodHours', description: 'Complete backups kept in the backup directory (and the backups they build on); 0 keeps all.' },
  {
    path: 'arca.backup.incremental',
    default: true,
    mirrors: "the backup's Incremental option",
    description: 'Scheduled backups write only what changed since the previous backup of the chain (items, properties, deletions, new binaries); false: every backup is full.',
  },
  {
    path: 'arca.downloadStats.enabled',
    default: true,
    description: 'Count downloads per item (count, last time and user; `?stats`, AQL `stat.*`), in memory and added to the database once a second per process; false: nothing is counted.',
  },
  { path: 'arca.archiveDownload.enabled', default: true, mirrors: 'Folder Download enabled', description: 'GET /api/archive/download (a folder as a zip, tar or tar.gz); false: 403 "Download Folder functionality is disabled."' },
  { path: 'arca.archiveDownload.maxFiles', default: 5000, mirrors: 'Folder Download max number of files', description: 'A folder holding more files than this (readable or not) is refused (400) before the archive starts.' },
  { path: 'arca.archiveDownload.maxSizeMb', default: 1024, mirrors: 'Folder Download max size', description: 'A folder whose readable files hold more than this many MiB is refused (400) before the archive starts; a zip stays below 4 GiB whatever the value.' },
  { path: 'arca.backup.fullEvery', default: 7, description: 'With incremental backups, every Nth backup starts a new chain with a full backup (7: a full, then six incrementals); 1: all full; 0: only the first.' },
];

export type SystemYaml = Record<string, unknown>;

/** `shared.node.id` → ARCA_SHARED_NODE_ID, JF_SHARED_NODE_ID; `arca.gc.graceSecs` → ARCA_GC_GRACESECS. */
export function envNamesFor(path: string): string[] {
  const upper = (p: string) => p.replace(/\./g, '_').toUpperCase();
  if (path.startsWith('arca.')) return [`ARCA_${upper(path.slice(5))}`];
  return [`ARCA_${upper(path)}`, `JF_${upper(path)}`];
}

function parseScalar(v: string): Scalar {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Resolved view of system.yaml: file values, then environment overrides, then defaults. */
export class SystemConfig {
  constructor(
    private readonly data: SystemYaml,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static load(file: string, env: NodeJS.ProcessEnv = process.env): SystemConfig {
    let data: SystemYaml = {};
    if (existsSync(file)) {
      try {
        data = (YAML.parse(readFileSync(file, 'utf8')) as SystemYaml | null) ?? {};
      } catch (err) {
        throw new ConfigError(`Invalid YAML in ${file}: ${(err as Error).message}`);
      }
      if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${file} must hold a YAML mapping`);
    }
    return new SystemConfig(data, env);
  }

  get(path: string): Scalar {
    for (const name of envNamesFor(path)) {
      const v = this.env[name];
      if (v !== undefined && v !== '') return parseScalar(v);
    }
    const v = getPath(this.data, path);
    if (v !== undefined && v !== null && typeof v !== 'object') return v as Scalar;
    return SYSTEM_YAML_KEYS.find((k) => k.path === path)?.default;
  }

  /** Whether the file or the environment sets `path` (its default does not count). */
  isSet(path: string): boolean {
    if (envNamesFor(path).some((name) => this.env[name] !== undefined && this.env[name] !== '')) return true;
    const v = getPath(this.data, path);
    return v !== undefined && v !== null && typeof v !== 'object';
  }

  string(path: string): string | undefined {
    const v = this.get(path);
    return v === undefined ? undefined : String(v);
  }

  number(path: string): number {
    const v = this.get(path);
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n)) throw new ConfigError(`system.yaml key ${path} must be a number, got '${String(v)}'`);
    return n;
  }

  /**
   * A list: a YAML sequence of scalars, or a string (the environment's form) split at commas
   * and white space; undefined when neither the file nor the environment sets it.
   */
  list(path: string): string[] | undefined {
    for (const name of envNamesFor(path)) {
      const v = this.env[name];
      if (v !== undefined && v !== '') return v.split(/[\s,]+/).filter((e) => e !== '');
    }
    const v = getPath(this.data, path);
    if (Array.isArray(v)) return v.filter((e) => e !== null && e !== undefined).map((e) => String(e));
    if (v === undefined || v === null || typeof v === 'object') return undefined;
    return String(v).split(/[\s,]+/).filter((e) => e !== '');
  }

  bool(path: string): boolean {
    const v = this.get(path);
    return v === true || v === 'true' || v === 1;
  }

  nodeId(): string {
    return this.string('shared.node.id') ?? hostname();
  }
}

export const DEFAULT_SYSTEM_YAML = `## Arca system configuration. Every key may be overridden by an environment variable
## JF_<PATH> or ARCA_<PATH>, e.g. JF_SHARED_NODE_ID or ARCA_ARTIFACTORY_PORT.
## See docs/configuration.md for every key and its default.
configVersion: 1
shared:
  node:
    ## id: art1            # defaults to the host name
    taskAffinity: any
## artifactory:
##   port: 8081
`;
