import type { Database } from '../../db/database.js';
import { getProperties, type Db } from '../../db/items.js';
import { LineFile, writeItemRecords } from './backup-files.js';
import { CLUSTER_LOCAL_PREFIX, FILES, type BackupCounts, type DeletedRecord, type ManifestFile } from './backup-format.js';

/**
 * The change log of incremental backups (table `backup_changes`, written by triggers on items
 * and item_props; migration 0010). A backup reads the rows it can see, exports the current
 * state of the items they name, and once the backup is complete deletes exactly the rows it
 * read: a change committed meanwhile (even one with a smaller id, on PostgreSQL) stays for the
 * next backup. Every query here walks the log's primary key or looks items up by their unique
 * `path_key`, so the cost follows the number of changes, not the size of the repository.
 */

const PAGE = 5000;
const CHUNK = 500;

/** Past this many log rows a backup that could be incremental is a full one (docs/ha.md). */
export const MAX_INCREMENTAL_CHANGES = 500_000;

/** Does the log hold more than `n` rows? Walks at most n + 1 entries of its primary key. */
export async function changeLogExceeds(db: Db, n: number): Promise<boolean> {
  const row = await db.selectFrom('backup_changes').select('id').orderBy('id').offset(n).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Which backup of which directory last consumed the log: a cluster fact, never exported or imported. */
export const CHAIN_KEY = `${CLUSTER_LOCAL_PREFIX}backup.chain`;

export interface ChainMarker {
  dir: string;
  name: string;
}

export interface ChangeSet {
  /** The log rows read, as contiguous runs of ids (deleted once the backup is complete). */
  runs: [number, number][];
  /** How many log rows were read. */
  count: number;
  /** The distinct items they name (none collected when not asked for: a full backup exports everything). */
  keys: string[];
}

/**
 * Reads every log row visible now, in id order. Read it before the items, so no change read is
 * newer than the state exported. `withKeys` false keeps only the id runs (a full backup: the
 * log may hold a row for every item of the repository).
 */
export async function readChanges(db: Db, signal?: AbortSignal, withKeys = true): Promise<ChangeSet> {
  const runs: [number, number][] = [];
  const keys = new Set<string>();
  let count = 0;
  for (let last = 0; ; ) {
    signal?.throwIfAborted();
    const rows = await db.selectFrom('backup_changes').select(['id', 'path_key']).where('id', '>', last).orderBy('id').limit(PAGE).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      addToRuns(runs, Number(r.id));
      if (withKeys) keys.add(r.path_key);
    }
    count += rows.length;
    last = Number(rows[rows.length - 1].id);
  }
  return { runs, count, keys: [...keys] };
}

/** Contiguous runs of sorted ids: a run was read whole, so deleting it by range deletes nothing unread. */
export function idRuns(ids: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const id of ids) addToRuns(runs, id);
  return runs;
}

function addToRuns(runs: [number, number][], id: number): void {
  const run = runs[runs.length - 1];
  if (run && id === run[1] + 1) run[1] = id;
  else runs.push([id, id]);
}

/** Deletes the log rows a complete backup covered. */
export async function consumeChanges(database: Database, runs: [number, number][]): Promise<void> {
  for (let i = 0; i < runs.length; i += 100) {
    const part = runs.slice(i, i + 100);
    await database.db
      .deleteFrom('backup_changes')
      .where((eb) => eb.or(part.map(([a, b]) => (a === b ? eb('id', '=', a) : eb.and([eb('id', '>=', a), eb('id', '<=', b)])))))
      .execute();
  }
}

export async function readChainMarker(db: Db): Promise<ChainMarker | undefined> {
  const row = await db.selectFrom('system_config').select('config_value').where('config_key', '=', CHAIN_KEY).executeTakeFirst();
  if (!row) return undefined;
  try {
    const v = JSON.parse(row.config_value) as Partial<ChainMarker>;
    return typeof v.dir === 'string' && typeof v.name === 'string' ? { dir: v.dir, name: v.name } : undefined;
  } catch {
    return undefined;
  }
}

/** Records the newest backup of the chain (undefined: none, so the next backup is full). */
export async function writeChainMarker(db: Db, marker: ChainMarker | undefined, now: number): Promise<void> {
  await db.deleteFrom('system_config').where('config_key', '=', CHAIN_KEY).execute();
  if (marker) await db.insertInto('system_config').values({ config_key: CHAIN_KEY, config_value: JSON.stringify(marker), modified: now }).execute();
}

/**
 * Writes the current state of the changed items to `items.jsonl` and the keys of those that no
 * longer exist to `deleted.jsonl`; returns the SHA-1s of the binaries the changed files reference.
 */
export async function writeChangedItems(db: Db, root: string, keys: string[], files: ManifestFile[], counts: BackupCounts, signal?: AbortSignal): Promise<Set<string>> {
  const items = new LineFile(root, FILES.items);
  const deleted = new LineFile(root, FILES.deleted);
  const referenced = new Set<string>();
  counts.deleted = 0;
  try {
    // Sorted, so a backup's files do not depend on the order of the changes.
    const sorted = [...keys].sort();
    for (let i = 0; i < sorted.length; i += CHUNK) {
      signal?.throwIfAborted();
      const chunk = sorted.slice(i, i + CHUNK);
      const rows = await db.selectFrom('items').selectAll().where('path_key', 'in', chunk).orderBy('path_key').execute();
      const props = await getProperties(db, rows.map((r) => Number(r.id)));
      const found = await writeItemRecords(rows, props, items, counts, referenced);
      for (const key of chunk) {
        if (found.has(key)) continue;
        const record: DeletedRecord = { path_key: key };
        await deleted.line(record);
        counts.deleted++;
      }
    }
  } finally {
    files.push(await items.close(), await deleted.close());
  }
  return referenced;
}
