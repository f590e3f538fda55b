import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../../content/content-store.js';
import { isoDate, type Clock } from '../../core/clock.js';
import { ArcaError, isArcaError } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import { getProperties, type Db } from '../../db/items.js';
import {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, BACKUP_PREFIX, backupName, binaryPath, CLUSTER_LOCAL_PREFIX, FILES, listBackups,
  type BackupCounts, type BinaryRecord, type ItemRecord, type Manifest, type ManifestFile,
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
  /** Keep this many complete backups in `dir` (the newest); 0 keeps all. */
  retain?: number;
  signal?: AbortSignal;
}

export interface ExportResult {
  name: string;
  path: string;
  counts: BackupCounts & { linkedBinaries: number };
  /** Older backups removed by retention. */
  removed: string[];
}

const PAGE = 1000;

/** Appends lines to a file while hashing them, minding back-pressure and write errors. */
class LineFile {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private failed: Error | undefined;
  size = 0;
  constructor(root: string, readonly path: string) {
    this.out = createWriteStream(join(root, path));
    this.out.on('error', (err) => (this.failed ??= err));
  }
  async line(value: unknown): Promise<void> {
    if (this.failed) throw this.failed;
    const buf = Buffer.from(JSON.stringify(value) + '\n');
    this.hash.update(buf);
    this.size += buf.length;
    if (this.out.write(buf)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off('drain', done);
        this.out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      this.out.once('drain', done);
      this.out.once('error', done);
    });
  }
  async close(): Promise<ManifestFile> {
    await new Promise<void>((res, rej) => this.out.end((err?: Error | null) => (err ? rej(err) : res())));
    if (this.failed) throw this.failed;
    return { path: this.path, size: this.size, sha256: this.hash.digest('hex') };
  }
}

async function jsonFile(root: string, path: string, value: unknown): Promise<ManifestFile> {
  const buf = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  await writeFile(join(root, path), buf);
  return { path, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

/** A consistent view where the database offers one without blocking writers (not on SQLite). */
function snapshot<T>(database: Database, fn: (db: Db) => Promise<T>): Promise<T> {
  if (database.dialect === 'sqlite') return fn(database.db);
  return database.db.transaction().setIsolationLevel('repeatable read').execute(fn);
}

/** Configuration and metadata, written inside one snapshot; returns the binaries the items reference. */
async function writeRecords(db: Db, root: string, files: ManifestFile[], counts: BackupCounts, signal?: AbortSignal): Promise<BinaryRecord[]> {
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

  const items = new LineFile(root, FILES.items);
  const referenced = new Set<string>();
  try {
    for (let last = 0; ; ) {
      signal?.throwIfAborted();
      const rows = await db.selectFrom('items').selectAll().where('id', '>', last).orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) break;
      last = Number(rows[rows.length - 1].id);
      const props = await getProperties(db, rows.map((r) => Number(r.id)));
      for (const { id, path_key: _key, name_lc: _folded, ...r } of rows) {
        const properties = props.get(Number(id)) ?? {};
        const record: ItemRecord = { ...r, type: r.type, size: Number(r.size), properties };
        await items.line(record);
        counts.items++;
        if (r.type === 'file') counts.files++;
        else counts.folders++;
        counts.properties += Object.values(properties).reduce((n, v) => n + v.length, 0);
        if (r.sha1) referenced.add(r.sha1);
      }
    }
  } finally {
    files.push(await items.close());
  }
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

/**
 * Writes one backup of the configuration, the metadata and the binaries to a new directory
 * under `opts.dir`. Binaries unchanged since the newest earlier backup there are hard links to
 * it when the file system allows, so a daily backup stores only what changed.
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
  const previous = (await listBackups(opts.dir)).pop();
  const counts: BackupCounts & { linkedBinaries: number } = {
    repositories: 0, users: 0, groups: 0, permissionTargets: 0, accessTokens: 0, settings: 0,
    items: 0, files: 0, folders: 0, properties: 0, binaries: 0, bytes: 0, linkedBinaries: 0,
  };
  try {
    await mkdir(join(root, 'config'), { recursive: true });
    await mkdir(join(root, 'metadata'), { recursive: true });
    const files: ManifestFile[] = [];
    const binaries = await snapshot(deps.database, (db) => writeRecords(db, root, files, counts, opts.signal));
    const list = new LineFile(root, FILES.binaries);
    const sums: string[] = [];
    try {
      for (const b of binaries) {
        opts.signal?.throwIfAborted();
        const target = join(root, binaryPath(b.sha1));
        await mkdir(dirname(target), { recursive: true });
        const old = previous ? join(opts.dir, previous, binaryPath(b.sha1)) : undefined;
        const linked = old && (await stat(old).catch(() => undefined))?.size === b.size && (await link(old, target).then(() => true, () => false));
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
    const { linkedBinaries: _linked, ...manifestCounts } = counts;
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      name,
      createdAt: isoDate(now),
      nodeId: opts.nodeId,
      runId: opts.runId,
      arcaVersion: opts.arcaVersion,
      masterKeyFingerprint: opts.masterKeyFingerprint,
      counts: manifestCounts,
      files,
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
  const removed: string[] = [];
  if (opts.retain && opts.retain > 0) {
    const all = await listBackups(opts.dir);
    for (const old of all.slice(0, Math.max(0, all.length - opts.retain))) {
      await rm(join(opts.dir, old), { recursive: true, force: true });
      removed.push(old);
    }
  }
  return { name, path: final, counts, removed };
}
