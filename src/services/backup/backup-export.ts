import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ContentStore } from '../../content/content-store.js';
import { isoDate, type Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import { getProperties, type Db } from '../../db/items.js';
import { checkBinaryRows, copyBinaries, TODO_FILE, writeBinaryRows, writeReferencedBinaries } from './backup-binaries.js';
import { applyRetention, newestChain } from './backup-chain.js';
import { changeLogExceeds, consumeChanges, MAX_INCREMENTAL_CHANGES, readChainMarker, readChanges, writeChainMarker, writeChangedItems, type ChangeSet } from './backup-changes.js';
import { jsonFile, LineFile, writeItemRecords } from './backup-files.js';
import {
  BACKUP_FORMAT, BACKUP_PREFIX, backupName, CLUSTER_LOCAL_PREFIX, FILES, FULL_FORMAT_VERSION, INCREMENTAL_FORMAT_VERSION,
  type BackupCounts, type Manifest, type ManifestFile,
} from './backup-format.js';

export interface BackupDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
}

export interface ExportOptions {
  /** The directory that receives `arca-backup-…/`. */
  dir: string;
  runId: string;
  nodeId: string;
  arcaVersion: string;
  masterKeyFingerprint: string | null;
  /** Keep this many complete backups in `dir` (the newest, and the backups they build on); 0 keeps all. */
  retain?: number;
  /**
   * Set for the backups of the backup directory: they form chains and consume the change log.
   * `incremental`: a backup follows the previous one of the chain when it can; `fullEvery`: every
   * Nth backup of a chain is a full one (1: all; 0: only the first). Unset (an export to a
   * directory named on demand): a full backup that leaves the change log alone.
   */
  chain?: { incremental: boolean; fullEvery: number };
  signal?: AbortSignal;
}

export interface ExportResult {
  name: string;
  path: string;
  kind: 'full' | 'incremental';
  counts: ExportCounts;
  /** Older backups removed by retention. */
  removed: string[];
}

/** `linkedBinaries`: hard links to a copy in the previous chain; `presentBinaries`: an incremental's binaries the chain already holds (not copied). */
type ExportCounts = BackupCounts & { linkedBinaries: number; presentBinaries: number; changes: number };

const PAGE = 1000;

/** A consistent view where the database offers one without blocking writers (not on SQLite). */
function snapshot<T>(database: Database, fn: (db: Db) => Promise<T>): Promise<T> {
  if (database.dialect === 'sqlite') return fn(database.db);
  return database.db.transaction().setIsolationLevel('repeatable read').execute(fn);
}

/** The configuration (small: always whole). */
async function writeConfig(db: Db, root: string, files: ManifestFile[], counts: BackupCounts): Promise<void> {
  const settings = (await db.selectFrom('system_config').selectAll().orderBy('config_key').execute()).filter((r) => !r.config_key.startsWith(CLUSTER_LOCAL_PREFIX));
  const repositories = await db.selectFrom('repositories').selectAll().orderBy('position').orderBy('repo_key').execute();
  const security = {
    users: await db.selectFrom('users').selectAll().orderBy('name').execute(),
    groups: await db.selectFrom('security_groups').selectAll().orderBy('name').execute(),
    memberships: await db.selectFrom('user_groups').selectAll().orderBy('user_name').orderBy('group_name').execute(),
    permissionTargets: await db.selectFrom('permission_targets').selectAll().orderBy('name').execute(),
    accessTokens: await db.selectFrom('access_tokens').selectAll().orderBy('token_id').execute(),
    // Private keys and passphrases as stored: encrypted with the master key the manifest names.
    signingKeys: await db.selectFrom('signing_keys').selectAll().orderBy('name').execute(),
  };
  Object.assign(counts, {
    settings: settings.length,
    repositories: repositories.length,
    users: security.users.length,
    groups: security.groups.length,
    permissionTargets: security.permissionTargets.length,
    accessTokens: security.accessTokens.length,
  });
  files.push(await jsonFile(root, FILES.settings, settings), await jsonFile(root, FILES.repositories, repositories), await jsonFile(root, FILES.security, security));
}

/** Every item with its properties, a page at a time (keyset on the id); then every binary they reference. */
async function writeAllItems(db: Db, root: string, files: ManifestFile[], counts: BackupCounts, todo: LineFile, signal?: AbortSignal): Promise<void> {
  const items = new LineFile(root, FILES.items);
  try {
    for (let last = 0; ; ) {
      signal?.throwIfAborted();
      const rows = await db.selectFrom('items').selectAll().where('id', '>', last).orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) break;
      last = Number(rows[rows.length - 1].id);
      const props = await getProperties(db, rows.map((r) => Number(r.id)));
      const referenced = new Set<string>();
      await writeItemRecords(rows, props, items, counts, referenced);
      await checkBinaryRows(db, referenced);
    }
  } finally {
    files.push(await items.close());
  }
  await writeReferencedBinaries(db, todo, signal);
}

/** A full backup, or an incremental one when this directory's newest backup is the chain's and the chain may grow. */
async function plan(deps: BackupDeps, opts: ExportOptions, chain: Manifest[]): Promise<{ incremental: boolean; sequence: number }> {
  const last = chain[chain.length - 1];
  const sequence = last ? (last.sequence ?? 0) + 1 : 0;
  if (!opts.chain?.incremental || !last || last.masterKeyFingerprint !== opts.masterKeyFingerprint) return { incremental: false, sequence: 0 };
  if (opts.chain.fullEvery > 0 && sequence >= opts.chain.fullEvery) return { incremental: false, sequence: 0 };
  // The log holds the changes since the backup that last consumed it: only that one may be followed.
  const marker = await readChainMarker(deps.database.db);
  const follows = marker?.dir === resolve(opts.dir) && marker.name === last.name;
  // A change as large as a repository (a bulk import) costs no less as an incremental, which
  // holds the changed keys in memory to sort them: a full backup streams instead.
  if (!follows || (await changeLogExceeds(deps.database.db, MAX_INCREMENTAL_CHANGES))) return { incremental: false, sequence: 0 };
  return { incremental: true, sequence };
}

/**
 * Writes one backup of the configuration, the metadata and the binaries to a new directory
 * under `opts.dir`: a full one, or (`opts.chain.incremental`) one with only what changed since
 * the previous backup of the chain. A full backup hard-links the binaries the previous chain
 * already holds when the file system allows; an incremental one copies only binaries that no
 * backup of its chain holds.
 */
export async function exportBackup(deps: BackupDeps, opts: ExportOptions): Promise<ExportResult> {
  const now = deps.clock.now();
  const name = backupName(now, opts.runId);
  const final = join(opts.dir, name);
  const root = join(opts.dir, `.${name}.partial`);
  await mkdir(opts.dir, { recursive: true });
  // Backups run one at a time cluster-wide (their task group's lock): a partial one is from a crash.
  for (const n of await readdir(opts.dir)) {
    if (n.startsWith(`.${BACKUP_PREFIX}`) && n.endsWith('.partial')) await rm(join(opts.dir, n), { recursive: true, force: true });
  }
  const chain = await newestChain(opts.dir);
  const { incremental, sequence } = await plan(deps, opts, chain);
  const counts: ExportCounts = {
    repositories: 0, users: 0, groups: 0, permissionTargets: 0, accessTokens: 0, settings: 0,
    items: 0, files: 0, folders: 0, properties: 0, binaries: 0, bytes: 0, linkedBinaries: 0, presentBinaries: 0, changes: 0,
  };
  let changes: ChangeSet | undefined;
  try {
    await mkdir(join(root, 'config'), { recursive: true });
    await mkdir(join(root, 'metadata'), { recursive: true });
    const files: ManifestFile[] = [];
    const todo = new LineFile(root, TODO_FILE);
    try {
      await snapshot(deps.database, async (db) => {
        // The log first: every change read is then older than the state exported below.
        // A full backup needs only its ids (it may name every item of the repository).
        changes = opts.chain ? await readChanges(db, opts.signal, incremental) : undefined;
        await writeConfig(db, root, files, counts);
        if (incremental) await writeBinaryRows(db, await writeChangedItems(db, root, changes!.keys, files, counts, opts.signal), todo);
        else await writeAllItems(db, root, files, counts, todo, opts.signal);
      });
    } finally {
      await todo.close();
    }
    counts.changes = changes?.count ?? 0;
    // The checksum list: the binaries' lines as they are copied, then the other files'.
    const sums = new LineFile(root, FILES.sums);
    try {
      files.push(await copyBinaries({ content: deps.content, dir: opts.dir, root, chain, incremental, counts, signal: opts.signal }, sums));
      opts.signal?.throwIfAborted();
      for (const f of files) await sums.raw(`${f.sha256}  ${f.path}\n`);
    } finally {
      await sums.close();
    }
    await rm(join(root, TODO_FILE));
    const { linkedBinaries: _linked, presentBinaries: _present, changes: _changes, ...manifestCounts } = counts;
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      formatVersion: incremental ? INCREMENTAL_FORMAT_VERSION : FULL_FORMAT_VERSION,
      name,
      createdAt: isoDate(now),
      nodeId: opts.nodeId,
      runId: opts.runId,
      arcaVersion: opts.arcaVersion,
      masterKeyFingerprint: opts.masterKeyFingerprint,
      counts: manifestCounts,
      files,
      kind: incremental ? 'incremental' : 'full',
      sequence,
      ...(incremental ? { base: chain[0].name, previous: chain[chain.length - 1].name } : {}),
    };
    const fh = await open(join(root, FILES.manifest), 'wx');
    try {
      await fh.writeFile(JSON.stringify(manifest, null, 2) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(root, final);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  if (opts.chain && changes) {
    // The marker first: a crash before the log is trimmed only makes the next incremental repeat some changes.
    await deps.database.db.transaction().execute((trx) => writeChainMarker(trx, { dir: resolve(opts.dir), name }, deps.clock.now()));
    await consumeChanges(deps.database, changes.runs);
  }
  const removed = opts.retain && opts.retain > 0 ? await applyRetention(opts.dir, opts.retain) : [];
  return { name, path: final, kind: incremental ? 'incremental' : 'full', counts, removed };
}
