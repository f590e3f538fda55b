import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../../content/content-store.js';
import { isoDate, type Clock } from '../../core/clock.js';
import { ArcaError, isArcaError } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import { getProperties, type Db } from '../../db/items.js';
import { applyRetention, findInChain, newestChain } from './backup-chain.js';
import { consumeChanges, readChainMarker, readChanges, writeChainMarker, writeChangedItems, type ChangeSet } from './backup-changes.js';
import { jsonFile, LineFile, writeItemRecords } from './backup-files.js';
import {
  BACKUP_FORMAT, BACKUP_PREFIX, backupName, binaryPath, CLUSTER_LOCAL_PREFIX, FILES, FULL_FORMAT_VERSION, INCREMENTAL_FORMAT_VERSION,
  type BackupCounts, type BinaryRecord, type Manifest, type ManifestFile,
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

/** Every item with its properties; returns the SHA-1s of the binaries they reference. */
async function writeAllItems(db: Db, root: string, files: ManifestFile[], counts: BackupCounts, signal?: AbortSignal): Promise<Set<string>> {
  const items = new LineFile(root, FILES.items);
  const referenced = new Set<string>();
  try {
    for (let last = 0; ; ) {
      signal?.throwIfAborted();
      const rows = await db.selectFrom('items').selectAll().where('id', '>', last).orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) break;
      last = Number(rows[rows.length - 1].id);
      const props = await getProperties(db, rows.map((r) => Number(r.id)));
      await writeItemRecords(rows, props, items, counts, referenced);
    }
  } finally {
    files.push(await items.close());
  }
  return referenced;
}

async function binaryRows(db: Db, referenced: Set<string>): Promise<BinaryRecord[]> {
  const sha1s = [...referenced].sort();
  const binaries: BinaryRecord[] = [];
  for (let i = 0; i < sha1s.length; i += 500) {
    const rows = await db.selectFrom('binaries').select(['sha1', 'sha256', 'md5', 'size']).where('sha1', 'in', sha1s.slice(i, i + 500)).orderBy('sha1').execute();
    binaries.push(...rows.map((b) => ({ ...b, size: Number(b.size) })));
  }
  const found = new Set(binaries.map((b) => b.sha1));
  const missing = sha1s.filter((s) => !found.has(s));
  if (missing.length > 0) throw new ArcaError('INTERNAL', `Items reference binaries with no database row: ${missing.slice(0, 5).join(', ')}`);
  return binaries;
}

/** Copies one binary out of the store, checking its SHA-1 and SHA-256 on the way. */
async function copyBinary(content: ContentStore, b: BinaryRecord, target: string): Promise<void> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sha1.update(chunk);
      sha256.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  let source;
  try {
    source = await content.read(b.sha1);
  } catch (err) {
    if (isArcaError(err, 'ITEM_NOT_FOUND')) throw new ArcaError('INTERNAL', `Binary ${b.sha1} is missing from the binary store; the backup cannot be complete`);
    throw err;
  }
  await pipeline(source, tap, createWriteStream(target));
  const got = { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
  if (got.sha1 !== b.sha1 || got.sha256 !== b.sha256 || size !== b.size) {
    throw new ArcaError('CHECKSUM_MISMATCH', `Binary ${b.sha1} in the binary store is corrupt (read sha1 ${got.sha1}, ${size} bytes)`);
  }
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
  return follows ? { incremental: true, sequence } : { incremental: false, sequence: 0 };
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
    const binaries = await snapshot(deps.database, async (db) => {
      // The log first: every change read is then older than the state exported below.
      changes = opts.chain ? await readChanges(db, opts.signal) : undefined;
      await writeConfig(db, root, files, counts);
      const referenced = incremental
        ? await writeChangedItems(db, root, changes!.keys, files, counts, opts.signal)
        : await writeAllItems(db, root, files, counts, opts.signal);
      return binaryRows(db, referenced);
    });
    counts.changes = changes?.ids.length ?? 0;
    const list = new LineFile(root, FILES.binaries);
    const sums: string[] = [];
    try {
      for (const b of binaries) {
        opts.signal?.throwIfAborted();
        const old = await findInChain(opts.dir, chain, b);
        if (old && incremental) {
          counts.presentBinaries++;
          continue;
        }
        const target = join(root, binaryPath(b.sha1));
        await mkdir(dirname(target), { recursive: true });
        const linked = old !== undefined && (await link(old, target).then(() => true, () => false));
        if (linked) counts.linkedBinaries++;
        else await copyBinary(deps.content, b, target);
        await list.line(b);
        sums.push(`${b.sha256}  ${binaryPath(b.sha1)}`);
        counts.binaries++;
        counts.bytes += b.size;
      }
    } finally {
      files.push(await list.close());
    }
    opts.signal?.throwIfAborted();
    const sumsText = [...files.map((f) => `${f.sha256}  ${f.path}`), ...sums].join('\n') + '\n';
    await writeFile(join(root, FILES.sums), sumsText);
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
    await consumeChanges(deps.database, changes.ids);
  }
  const removed = opts.retain && opts.retain > 0 ? await applyRetention(opts.dir, opts.retain) : [];
  return { name, path: final, kind: incremental ? 'incremental' : 'full', counts, removed };
}
