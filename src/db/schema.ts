import type { ColumnType, Generated } from 'kysely';
import type { ReplicationEventsTable, ReplicationsTable } from './schema-replication.js';
import type { SigningKeysTable } from './schema-signing.js';

/** Booleans are stored as 0/1 integers and times as epoch milliseconds, the same on every dialect. */
export type Bool = number;

export interface BinariesTable {
  sha1: string;
  sha256: string;
  md5: string;
  size: number;
  created: number;
  /**
   * Items referencing the binary as of the last fold of `binary_ref_log` (the exact count adds
   * the binary's log rows); maintained by triggers, see migration 0009.
   */
  ref_count: Generated<number>;
}

/** One change of a reference to a binary (+1/-1), appended by triggers on `items`. */
export interface BinaryRefLogTable {
  id: Generated<number>;
  sha1: string;
  delta: number;
}

/** Changes of the count and bytes of binaries (tombstones excluded), appended by triggers; their sum is the total. */
export interface BinaryTotalsTable {
  id: Generated<number>;
  binary_count: number;
  byte_count: number;
}

/** Garbage collection's own state: `next_orphan_sweep` (epoch ms). */
export interface GcStateTable {
  name: string;
  value: number;
}

export interface ItemsTable {
  id: Generated<number>;
  /** sha1 of `repo \0 path \0 name`: one short unique key that every dialect can index. */
  path_key: string;
  repo: string;
  /** Parent folder, relative to the repository root; '' for the root. */
  path: string;
  name: string;
  /**
   * `name` with ASCII A–Z folded to a–z: a column the database generates (migration 0012),
   * indexed for case-insensitive name search. Never written by the application.
   */
  name_lc: ColumnType<string, never, never>;
  type: 'file' | 'folder';
  sha1: string | null;
  sha256: string | null;
  md5: string | null;
  size: number;
  original_sha1: string | null;
  original_sha256: string | null;
  original_md5: string | null;
  mime_type: string | null;
  created: number;
  created_by: string;
  modified: number;
  modified_by: string;
  updated: number;
}

export interface ItemPropsTable {
  id: Generated<number>;
  item_id: number;
  prop_key: string;
  prop_value: string;
}

/** One change of an item or of its properties since the last backup (written by triggers; migration 0010). */
export interface BackupChangesTable {
  id: Generated<number>;
  path_key: string;
}

/**
 * The search row of an npm package document (migration 0013): created empty (`doc_sha1` null)
 * by triggers on `items`, filled from the document by the npm store or the next search.
 */
export interface NpmSearchTable {
  item_id: number;
  repo: string;
  /** The document content the row was made from; null until it is filled. */
  doc_sha1: string | null;
  /** 1 when the document has a name and a latest version (a search can find it). */
  listed: Generated<number>;
  name: string | null;
  name_lc: string | null;
  /** Lowercased name, keywords and description, one per line: what a search term must occur in. */
  search_lc: string | null;
  /** The lowercased fields the exact match reads (formats/npm/search.ts). */
  match_json: string | null;
  /** The package object of the search answer, without its links. */
  entry: string | null;
}

/** An image of a repository: it has a manifest in a digest folder (maintained by triggers, migration 0013). */
export interface OciImagesTable {
  repo: string;
  image: string;
}

/** Download counts of an item (migration 0017). */
export interface DownloadStatsTable {
  item_id: number;
  downloads: number;
  last_downloaded: number | null;
  last_downloaded_by: string | null;
  remote_downloads: number;
  remote_last_downloaded: number | null;
}

/** A binary whose archive entries were indexed (migration 0018). */
export interface ArchiveBinariesTable {
  sha1: string;
  entry_count: number;
  /** 1 when the entries past the limit were left out. */
  truncated: number;
  indexed: number;
}

/** One entry of an indexed archive: its folder inside the archive ('' at the top) and name. */
export interface ArchiveEntriesTable {
  id: Generated<number>;
  sha1: string;
  entry_path: string;
  entry_name: string;
  /** entry_name reversed (suffix patterns). */
  name_rev: string;
}

/** A build-info item's index row (migration 0019). */
export interface BuildsTable {
  item_id: number;
  repo: string;
  name: string;
  number: string;
  started: string;
  started_ms: number;
  status: string | null;
}

/** An artifact or dependency of a build, by sha1 (migration 0019). */
export interface BuildEntriesTable {
  item_id: number;
  kind: 'artifact' | 'dependency';
  module: string;
  name: string;
  type: string | null;
  scopes: string | null;
  sha1: string;
}

/** When an item of the trash can was trashed (migration 0020), by its path key. */
export interface TrashItemsTable {
  path_key: string;
  trashed_at: number;
}

export interface RepositoriesTable {
  repo_key: string;
  rclass: string;
  package_type: string;
  position: number;
  config: string;
  created: number;
  modified: number;
}

export interface UsersTable {
  name: string;
  email: string | null;
  password_hash: string | null;
  admin: Bool;
  profile_updatable: Bool;
  disable_ui_access: Bool;
  internal_password_disabled: Bool;
  realm: string;
  last_logged_in: number | null;
  failed_logins: number;
  locked_until: number | null;
  api_key_enc: string | null;
  api_key_hash: string | null;
  created: number;
  modified: number;
}

export interface GroupsTable {
  name: string;
  description: string | null;
  auto_join: Bool;
  admin_privileges: Bool;
  realm: string;
  created: number;
  modified: number;
}

export interface UserGroupsTable {
  user_name: string;
  group_name: string;
}

export interface PermissionTargetsTable {
  name: string;
  /** The v2 JSON of the permission target. */
  config: string;
  created: number;
  modified: number;
}

export interface AccessTokensTable {
  token_id: string;
  subject: string;
  scope: string;
  audience: string | null;
  description: string | null;
  issued_at: number;
  expires_at: number | null;
  refreshable: Bool;
  refresh_hash: string | null;
  revoked: Bool;
  created_by: string;
}

export interface SystemConfigTable {
  config_key: string;
  config_value: string;
  modified: number;
}

/** One counter per cache domain; a change bumps it and every process polls it to drop its caches. */
export interface ConfigVersionsTable {
  domain: string;
  version: number;
}

export interface ClusterNodesTable {
  server_id: string;
  /** Random per start of a node (shared by its workers): tells a restart from a twin. */
  instance_id: string;
  start_time: number;
  context_url: string | null;
  membership_port: number;
  server_state: string;
  server_role: string;
  last_heartbeat: number;
  version: string;
  revision: string;
  release_date: number;
  task_affinity: string;
  host: string;
  pid: number;
  advertised_ip: string | null;
  /** 1 when the node's taskAffinity was set explicitly, 0 when it is the default (legacy rule). */
  task_affinity_set: Generated<number>;
}

/** A cluster lock: the row stays forever so `token` (the fencing token) only grows. */
export interface ClusterLocksTable {
  lock_name: string;
  owner: string | null;
  token: number;
  acquired_at: number;
  expires_at: number;
}

/** One run of a cluster-wide task (queued, running or finished). */
export interface TaskRunsTable {
  run_id: string;
  task_name: string;
  /** 'schedule' or 'manual'. */
  trigger_type: string;
  /** The scheduled time this run serves (schedule runs). */
  slot: number | null;
  attempt: number;
  /** QUEUED, RUNNING, SUCCEEDED, FAILED or ABANDONED. */
  status: string;
  node_id: string | null;
  fencing_token: number | null;
  queued_at: number;
  started_at: number | null;
  ended_at: number | null;
  requested_by: string | null;
  params: string | null;
  result: string | null;
  counts: string | null;
  error: string | null;
}

/** When each scheduled task is next due, shared by every node. */
export interface TaskSchedulesTable {
  task_name: string;
  schedule: string;
  next_run_at: number;
  modified: number;
}

/** A configuration file mirrored from the primary to every node's `etc/`. */
export interface ConfigFilesTable {
  name: string;
  content: string;
  sha256: string;
  updated_by: string;
  updated: number;
}

/** Which copy of each mirrored file a node loaded at its last start ('' = none). */
export interface ConfigFileLoadsTable {
  node_id: string;
  name: string;
  sha256: string;
  loaded: number;
}

/** A UI login session (`artifactory.map.provider.type=db`); the cookie itself is never stored. */
export interface UiSessionsTable {
  id_hash: string;
  user_name: string;
  node_id: string;
  created: number;
  last_access: number;
  expires: number;
}

/** One license of the cluster pool; `node_id` is the node holding it (null: free). */
export interface ClusterLicensesTable {
  license_hash: string;
  license_key: string;
  license_id: string;
  licensed_to: string;
  license_type: string;
  /** `YYYY-MM-DD`, as signed. */
  valid_through: string;
  /** Epoch ms from which the license is expired (the day after valid_through, UTC). */
  expires_at: number;
  node_id: string | null;
  assigned_at: number | null;
  added_by: string;
  added_at: number;
}

export interface Schema {
  replication_events: ReplicationEventsTable;
  binaries: BinariesTable;
  binary_ref_log: BinaryRefLogTable;
  binary_totals: BinaryTotalsTable;
  download_stats: DownloadStatsTable;
  archive_binaries: ArchiveBinariesTable;
  archive_entries: ArchiveEntriesTable;
  builds: BuildsTable;
  build_entries: BuildEntriesTable;
  trash_items: TrashItemsTable;
  replications: ReplicationsTable;
  signing_keys: SigningKeysTable;
  gc_state: GcStateTable;
  items: ItemsTable;
  item_props: ItemPropsTable;
  repositories: RepositoriesTable;
  users: UsersTable;
  security_groups: GroupsTable;
  user_groups: UserGroupsTable;
  permission_targets: PermissionTargetsTable;
  access_tokens: AccessTokensTable;
  system_config: SystemConfigTable;
  backup_changes: BackupChangesTable;
  npm_search: NpmSearchTable;
  oci_images: OciImagesTable;
  config_versions: ConfigVersionsTable;
  cluster_nodes: ClusterNodesTable;
  cluster_locks: ClusterLocksTable;
  task_runs: TaskRunsTable;
  task_schedules: TaskSchedulesTable;
  config_files: ConfigFilesTable;
  config_file_loads: ConfigFileLoadsTable;
  ui_sessions: UiSessionsTable;
  cluster_licenses: ClusterLicensesTable;
}
