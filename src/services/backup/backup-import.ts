import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Insertable, Transaction } from 'kysely';
import type { StagedBinary } from '../../binstore/binary-provider.js';
import { bumpVersion, type ConfigDomain, type ConfigVersions } from '../../cluster/config-versions.js';
import { ArcaError } from '../../core/errors.js';
import { MD5_PENDING } from '../../core/digests.js';
import { lockBinary } from '../../db/binaries.js';
import { pathKey } from '../../db/items.js';
import { orUpdate } from '../../db/dialect.js';
import { TRASH_REPO_KEY } from '../../core/repo-config.js';
import type { Schema } from '../../db/schema.js';
import { chainOf, isIncremental } from './backup-chain.js';
import { writeChainMarker } from './backup-changes.js';
import { lines } from './backup-files.js';
import type { BackupDeps } from './backup-export.js';
import {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, binaryPath, CLUSTER_LOCAL_PREFIX, FILES, listBackups, sha256File,
  type BackupCounts, type BinaryRecord, type DeletedRecord, type ItemRecord, type Manifest,
} from './backup-format.js';

export interface ImportOptions {
  /** A backup directory, the name of one in `backupDir`, or `latest`. */
  path: string;
  backupDir: string;
  masterKeyFingerprint: string | null;
  signal?: AbortSignal;
  /** Called inside the import's transaction (the task's fence). */
  fence?: (trx: Transaction<Schema>) => Promise<void>;
}

export interface ImportResult {
  path: string;
  name: string;
  /** The backups restored, the full one first (one name for a full backup). */
  chain: string[];
  counts: BackupCounts;
}

const CHUNK = 200;
const DOMAINS: ConfigDomain[] = ['repositories', 'security', 'system'];

const invalid = (path: string, why: string) => new ArcaError('BAD_REQUEST', `Not a usable backup at ${path}: ${why}`);

export async function resolveBackupPath(path: string, backupDir: string): Promise<string> {
  if (path === 'latest') {
    const newest = (await listBackups(backupDir)).pop();
    if (!newest) throw new ArcaError('NOT_FOUND', `No complete backup in ${backupDir}`);
    return join(backupDir, newest);
  }
  return isAbsolute(path) ? path : join(backupDir, path);
}

/** Checks the manifest, the master key and the size and SHA-256 of every listed file. */
async function verify(root: string, fingerprint: string | null): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(root, FILES.manifest), 'utf8')) as Manifest;
  } catch (err) {
    throw invalid(root, `cannot read ${FILES.manifest} (${(err as Error).message})`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw invalid(root, `format is '${String(manifest.format)}', not '${BACKUP_FORMAT}'`);
  if (manifest.formatVersion > BACKUP_FORMAT_VERSION) throw invalid(root, `format version ${manifest.formatVersion} is newer than this Arca reads (${BACKUP_FORMAT_VERSION})`);
  if (manifest.masterKeyFingerprint && fingerprint && manifest.masterKeyFingerprint !== fingerprint) {
    throw new ArcaError(
      'CONFLICT',
      `The backup ${manifest.name} was made with another master key (fingerprint ${manifest.masterKeyFingerprint}; this cluster's is ${fingerprint}); ` +
        `its encrypted secrets would not decrypt. Import it into a cluster using that key (etc/security/master.key of its origin)`,
    );
  }
  const listed = [FILES.settings, FILES.repositories, FILES.security, FILES.items, FILES.binaries, ...(isIncremental(manifest) ? [FILES.deleted] : [])];
  for (const required of listed) {
    if (!manifest.files.some((f) => f.path === required)) throw invalid(root, `the manifest does not list ${required}`);
  }
  for (const f of manifest.files) {
    const got = await sha256File(join(root, f.path)).catch(() => undefined);
    if (!got) throw invalid(root, `${f.path} is missing`);
    if (got.size !== f.size || got.sha256 !== f.sha256) throw invalid(root, `${f.path} does not match its checksum (sha256 ${got.sha256}, expected ${f.sha256})`);
  }
  return manifest;
}

/** Copies every binary into the store's staging area, checking all three checksums. */
async function stageBinaries(deps: BackupDeps, root: string, staged: StagedBinary[], records: BinaryRecord[], signal?: AbortSignal): Promise<void> {
  const seen = new Set(records.map((r) => r.sha1));
  for await (const b of lines<BinaryRecord>(join(root, FILES.binaries))) {
    signal?.throwIfAborted();
    // The incrementals of a chain copy no binary it already holds; one listed twice is staged once.
    if (seen.has(b.sha1)) continue;
    seen.add(b.sha1);
    const file = join(root, binaryPath(b.sha1));
    if (!(await stat(file).catch(() => undefined))) throw invalid(root, `${binaryPath(b.sha1)} is missing`);
    const s = await deps.content.stage(createReadStream(file));
    staged.push(s);
    // A binary exported before its MD5 was backfilled has none to compare (the sweep adds it after the import).
    if (s.sha1 !== b.sha1 || s.sha256 !== b.sha256 || (b.md5 !== MD5_PENDING && s.md5 !== b.md5) || s.size !== b.size) {
      throw invalid(root, `${binaryPath(b.sha1)} does not match its checksums (sha1 ${s.sha1}, sha256 ${s.sha256}, ${s.size} bytes)`);
    }
    records.push(b);
  }
}

async function insertChunks<T extends keyof Schema & string>(trx: Transaction<Schema>, table: T, rows: Insertable<Schema[T]>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto(table).values(rows.slice(i, i + CHUNK) as never).execute();
}

/** Replaces the configuration with the backup's, inside the caller's transaction. */
async function replaceConfig(trx: Transaction<Schema>, root: string, counts: BackupCounts): Promise<void> {
  const settings = JSON.parse(await readFile(join(root, FILES.settings), 'utf8')) as Insertable<Schema['system_config']>[];
  const repositories = JSON.parse(await readFile(join(root, FILES.repositories), 'utf8')) as Insertable<Schema['repositories']>[];
  const security = JSON.parse(await readFile(join(root, FILES.security), 'utf8')) as {
    users: Insertable<Schema['users']>[];
    groups: Insertable<Schema['security_groups']>[];
    memberships: Insertable<Schema['user_groups']>[];
    permissionTargets: Insertable<Schema['permission_targets']>[];
    accessTokens: Insertable<Schema['access_tokens']>[];
    /** Absent from backups made before signing keys existed: the cluster's keys are then kept. */
    signingKeys?: Insertable<Schema['signing_keys']>[];
  };
  await trx.deleteFrom('user_groups').execute();
  for (const t of ['users', 'security_groups', 'permission_targets', 'access_tokens', 'replications', 'repositories'] as const) await trx.deleteFrom(t).execute();
  await trx.deleteFrom('system_config').where('config_key', 'not like', `${CLUSTER_LOCAL_PREFIX}%`).execute();

  await insertChunks(trx, 'system_config', settings.filter((s) => !String(s.config_key).startsWith(CLUSTER_LOCAL_PREFIX)));
  await insertChunks(trx, 'repositories', repositories);
  await insertChunks(trx, 'users', security.users);
  await insertChunks(trx, 'security_groups', security.groups);
  await insertChunks(trx, 'user_groups', security.memberships);
  await insertChunks(trx, 'permission_targets', security.permissionTargets);
  await insertChunks(trx, 'access_tokens', security.accessTokens);
  if (security.signingKeys) {
    // The keys that signed the restored repositories' metadata, so clients that trust them still do.
    await trx.deleteFrom('signing_keys').execute();
    await insertChunks(trx, 'signing_keys', security.signingKeys);
  }
  Object.assign(counts, {
    settings: settings.length,
    repositories: repositories.length,
    users: security.users.length,
    groups: security.groups.length,
    permissionTargets: security.permissionTargets.length,
    accessTokens: security.accessTokens.length,
  });
}

/** Deletes the items with these keys and their properties. */
async function deleteKeys(trx: Transaction<Schema>, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await trx.deleteFrom('item_props').where('item_id', 'in', trx.selectFrom('items').select('id').where('path_key', 'in', keys)).execute();
  await trx.deleteFrom('items').where('path_key', 'in', keys).execute();
}

/**
 * Loads the items of one backup of the chain: a full one replaces all items, an incremental one
 * deletes the items it lists as deleted and replaces those it carries.
 */
async function loadItems(trx: Transaction<Schema>, root: string, incremental: boolean): Promise<void> {
  if (!incremental) {
    await trx.deleteFrom('item_props').execute();
    await trx.deleteFrom('items').execute();
    await trx.deleteFrom('trash_items').execute();
  } else {
    let keys: string[] = [];
    for await (const d of lines<DeletedRecord>(join(root, FILES.deleted))) {
      if (typeof d.path_key !== 'string' || !/^[0-9a-f]{40}$/.test(d.path_key)) throw invalid(root, `a line of ${FILES.deleted} is malformed`);
      keys.push(d.path_key);
      if (keys.length < CHUNK) continue;
      await deleteKeys(trx, keys);
      keys = [];
    }
    await deleteKeys(trx, keys);
  }
  let batch: ItemRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const keyed = batch.map((it) => ({ it, key: pathKey(it.repo, it.path === '' ? it.name : `${it.path}/${it.name}`) }));
    if (incremental) await deleteKeys(trx, keyed.map((k) => k.key));
    await trx.insertInto('items').values(keyed.map(({ it: { properties: _p, ...row }, key }) => ({ ...withoutGenerated(row), path_key: key }))).execute();
    const ids = await trx.selectFrom('items').select(['id', 'path_key']).where('path_key', 'in', keyed.map((k) => k.key)).execute();
    const idOf = new Map(ids.map((r) => [r.path_key, Number(r.id)]));
    const props = keyed.flatMap(({ it, key }) =>
      Object.entries(it.properties).flatMap(([k, vs]) => vs.map((v) => ({ item_id: idOf.get(key)!, prop_key: k, prop_value: v }))),
    );
    await insertChunks(trx, 'item_props', props);
    // The trash can's entries come back from its items' trash.time (the retention task reads them).
    for (const { it, key } of keyed) {
      const time = it.repo === TRASH_REPO_KEY && Object.hasOwn(it.properties, 'trash.time') ? Number(it.properties['trash.time'][0]) : NaN;
      if (Number.isSafeInteger(time)) await orUpdate(trx, trx.insertInto('trash_items').values({ path_key: key, trashed_at: time }), 'path_key', { trashed_at: time }).execute();
    }
    batch = [];
  };
  for await (const it of lines<ItemRecord>(join(root, FILES.items))) {
    if (typeof it.repo !== 'string' || typeof it.name !== 'string' || (it.type !== 'file' && it.type !== 'folder')) {
      throw invalid(root, `an item in ${FILES.items} is malformed`);
    }
    batch.push(it);
    if (batch.length >= CHUNK) await flush();
  }
  await flush();
}

/** What the import left: items by type and properties (the sum over a chain is not known otherwise). */
async function countItems(trx: Transaction<Schema>, counts: BackupCounts): Promise<void> {
  const byType = await trx.selectFrom('items').select(['type', trx.fn.countAll<number | string>().as('n')]).groupBy('type').execute();
  counts.files = Number(byType.find((r) => r.type === 'file')?.n ?? 0);
  counts.folders = Number(byType.find((r) => r.type === 'folder')?.n ?? 0);
  counts.items = counts.files + counts.folders;
  const props = await trx.selectFrom('item_props').select(trx.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  counts.properties = Number(props.n);
}

/**
 * Restores a backup: checks the manifest, the master key and every checksum, stages every
 * binary (checking its checksums again), then in ONE transaction replaces the configuration
 * and the metadata and makes the binaries visible. An incremental backup is restored with its
 * chain: the full backup it builds on, then each incremental in order (every one checked the
 * same way first). Any failure leaves the node as it was: nothing is half-imported (binaries
 * committed before a failed transaction have no database row and are removed by garbage
 * collection).
 */
export async function importBackup(deps: BackupDeps & { versions: ConfigVersions }, opts: ImportOptions): Promise<ImportResult> {
  const root = await resolveBackupPath(opts.path, opts.backupDir);
  const manifest = await verify(root, opts.masterKeyFingerprint);
  const dir = dirname(root);
  const chain = isIncremental(manifest) ? await chainOf(dir, { ...manifest, name: basename(root) }) : [manifest];
  const roots = chain.map((m, i) => (i === chain.length - 1 ? root : join(dir, m.name)));
  for (const r of roots.slice(0, -1)) await verify(r, opts.masterKeyFingerprint);
  const counts: BackupCounts = { ...manifest.counts, items: 0, files: 0, folders: 0, properties: 0, binaries: 0, bytes: 0 };
  delete counts.deleted;
  const staged: StagedBinary[] = [];
  const binaries: BinaryRecord[] = [];
  try {
    for (const r of roots) await stageBinaries(deps, r, staged, binaries, opts.signal);
    opts.signal?.throwIfAborted();
    await deps.database.db.transaction().execute(async (trx) => {
      await opts.fence?.(trx);
      const now = deps.clock.now();
      for (let i = 0; i < binaries.length; i++) {
        await lockBinary(trx, binaries[i], now);
        await staged[i].commit();
        counts.binaries++;
        counts.bytes += binaries[i].size;
      }
      // The configuration is whole in every backup: the newest one's.
      await replaceConfig(trx, root, counts);
      for (let i = 0; i < roots.length; i++) await loadItems(trx, roots[i], i > 0);
      await countItems(trx, counts);
      // The restored state is no backup's: the next backup is a full one, and the change log restarts empty.
      await trx.deleteFrom('backup_changes').execute();
      await writeChainMarker(trx, undefined, now);
      for (const d of DOMAINS) await bumpVersion(trx, d);
      // Again at the end: a long import keeps its lease, and a takeover meanwhile rolls it back.
      await opts.fence?.(trx);
    });
  } finally {
    await Promise.all(staged.map((s) => s.discard()));
  }
  for (const d of DOMAINS) deps.versions.changedLocally(d);
  // The tables were replaced as a whole: the planner's statistics describe what was there.
  await deps.database.refreshStatistics?.().catch(() => undefined);
  return { path: root, name: manifest.name, chain: chain.map((m) => m.name), counts };
}

/** A record without the columns the database generates itself (a backup's rows may carry them). */
function withoutGenerated<T extends object>(row: T): T {
  const { name_lc: _folded, ...rest } = row as T & { name_lc?: unknown };
  return rest as T;
}
