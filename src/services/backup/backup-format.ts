import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The backup directory format (docs/ha.md, "Backup format"):
 *
 *   arca-backup-<yyyymmddThhmmss.sssZ>-<run>/
 *     manifest.json             format, version, origin, counts, and size + sha256 of every file below but the binaries
 *     SHA256SUMS                `sha256sum -c` list of every file, binaries included
 *     config/settings.json      cluster settings (system_config rows, except `cluster.*` facts of one cluster)
 *     config/repositories.json  repository rows (their JFrog JSON configuration included)
 *     config/security.json      users, groups, memberships, permission targets, access tokens
 *     metadata/items.jsonl      one item per line (files and folders) with its properties
 *     metadata/binaries.jsonl   one binary per line: sha1, sha256, md5, size
 *     binaries/<sha1[0..2]>/<sha1>
 *
 * An incremental backup (manifest `kind: "incremental"`, format version 2) has the same layout
 * but only what changed since the `previous` backup of its chain: `items.jsonl` holds the items
 * created or changed since, `deleted.jsonl` the `path_key` of each item deleted since, and
 * `binaries.jsonl` (with `binaries/`) only binaries that no earlier backup of the chain holds.
 * The configuration files are always whole (they are small). Restoring it restores its `base`
 * (the chain's full backup) and then every incremental up to it, in order.
 *
 * A backup is written to `.<name>.partial` and renamed when complete, so a directory without
 * the dot is always whole.
 */
export const BACKUP_FORMAT = 'arca-backup';
/** The newest format version this Arca reads. A full backup is written as version 1 (older Arcas read it), an incremental as 2. */
export const BACKUP_FORMAT_VERSION = 2;
export const FULL_FORMAT_VERSION = 1;
export const INCREMENTAL_FORMAT_VERSION = 2;
export const BACKUP_PREFIX = 'arca-backup-';

export const FILES = {
  manifest: 'manifest.json',
  sums: 'SHA256SUMS',
  settings: 'config/settings.json',
  repositories: 'config/repositories.json',
  security: 'config/security.json',
  items: 'metadata/items.jsonl',
  binaries: 'metadata/binaries.jsonl',
  /** Incremental backups only: one `{"path_key": …}` per line, an item deleted since the previous backup. */
  deleted: 'metadata/deleted.jsonl',
} as const;

export function binaryPath(sha1: string): string {
  return `binaries/${sha1.slice(0, 2)}/${sha1}`;
}

/** system_config keys that describe one cluster (its master key fingerprint…) and are never exported or replaced. */
export const CLUSTER_LOCAL_PREFIX = 'cluster.';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface BackupCounts {
  repositories: number;
  users: number;
  groups: number;
  permissionTargets: number;
  accessTokens: number;
  settings: number;
  items: number;
  files: number;
  folders: number;
  properties: number;
  binaries: number;
  bytes: number;
  /** Incremental backups: items deleted since the previous backup. */
  deleted?: number;
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  name: string;
  createdAt: string;
  nodeId: string;
  runId: string;
  arcaVersion: string;
  /** The master key's fingerprint: secrets in the backup are encrypted with that key. */
  masterKeyFingerprint: string | null;
  counts: BackupCounts;
  files: ManifestFile[];
  /** Absent in backups written before incremental backups existed: those are full. */
  kind?: 'full' | 'incremental';
  /** Incremental: the name of the chain's full backup, and of the backup this one follows. */
  base?: string;
  previous?: string;
  /** Position in the chain: 0 for the full backup, 1 for the first incremental after it… */
  sequence?: number;
}

export interface DeletedRecord {
  path_key: string;
}

/** The exported form of an item: every column but the database id, plus its properties. */
export interface ItemRecord {
  repo: string;
  path: string;
  name: string;
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
  properties: Record<string, string[]>;
}

export interface BinaryRecord {
  sha1: string;
  sha256: string;
  md5: string;
  size: number;
}

export function backupName(now: number, runId: string): string {
  // Milliseconds too, so names sort by time even for backups made within one second.
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '');
  return `${BACKUP_PREFIX}${stamp}-${runId.replace(/-/g, '').slice(0, 8)}`;
}

/** Complete backups in `dir`, oldest first (names sort by time). */
export async function listBackups(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names.filter((x) => x.startsWith(BACKUP_PREFIX)).sort()) {
    if ((await stat(join(dir, n, FILES.manifest)).catch(() => undefined))?.isFile()) out.push(n);
  }
  return out;
}

export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
