import { sql, type Selectable } from 'kysely';
import { retryConflicts } from './conflicts.js';
import type { Database } from './database.js';
import type { Db } from './items.js';
import type { BuildEntriesTable, BuildsTable } from './schema.js';

/**
 * The build-info index (migration 0019): one `builds` row per build item and its artifacts
 * and dependencies in `build_entries`. Written when a build item is stored (replacing what
 * the item had), removed with the item by a trigger.
 */

export type BuildRow = Selectable<BuildsTable> & { path: string; item_name: string };
export type BuildEntryRow = Omit<Selectable<BuildEntriesTable>, 'item_id'>;

/** Rows per insert statement (well under every dialect's parameter limit). */
const BATCH = 500;

/** Replaces the index rows of a build item. */
export async function indexBuild(database: Database, row: Selectable<BuildsTable>, entries: BuildEntryRow[]): Promise<void> {
  // MariaDB's gap locks can deadlock two runs indexed at once: the transaction is tried again.
  await retryConflicts(() => database.db.transaction().execute(async (trx) => {
    // The item's row lock orders two indexings of one item (the same run published twice at
    // once) and a delete racing them; an item gone since it was read is not indexed.
    let q = trx.selectFrom('items').select('id').where('id', '=', row.item_id);
    if (database.dialect !== 'sqlite') q = q.forUpdate();
    const item = await q.executeTakeFirst();
    // A first indexing deletes nothing (and takes no gap locks for it).
    const had = await trx.selectFrom('builds').select('item_id').where('item_id', '=', row.item_id).executeTakeFirst();
    if (had) {
      await trx.deleteFrom('build_entries').where('item_id', '=', row.item_id).execute();
      await trx.deleteFrom('builds').where('item_id', '=', row.item_id).execute();
    }
    if (!item) return;
    await trx.insertInto('builds').values(row).execute();
    for (let i = 0; i < entries.length; i += BATCH) {
      await trx
        .insertInto('build_entries')
        .values(entries.slice(i, i + BATCH).map((e) => ({ ...e, item_id: row.item_id })))
        .execute();
    }
  }));
}

/** Forgets a build item (the trigger does this on delete; an item that is no build any more). */
export async function unindexBuild(db: Db, itemId: number): Promise<void> {
  await db.deleteFrom('build_entries').where('item_id', '=', itemId).execute();
  await db.deleteFrom('builds').where('item_id', '=', itemId).execute();
}

const withItem = (db: Db) =>
  db
    .selectFrom('builds')
    .innerJoin('items', 'items.id', 'builds.item_id')
    .select(['builds.item_id', 'builds.repo', 'builds.name', 'builds.number', 'builds.started', 'builds.started_ms', 'builds.status', 'items.path', 'items.name as item_name']);

/** Every build name of a repository with its newest start, by name. */
export async function buildNames(db: Db, repo: string): Promise<{ name: string; last: number }[]> {
  const rows = await db
    .selectFrom('builds')
    .select(['name', sql<number>`max(started_ms)`.as('last')])
    .where('repo', '=', repo)
    .groupBy('name')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ name: r.name, last: Number(r.last) }));
}

/** The runs of a build name, newest first. */
export async function buildRuns(db: Db, repo: string, name: string): Promise<BuildRow[]> {
  return withItem(db).where('builds.name', '=', name).where('builds.repo', '=', repo).orderBy('builds.started_ms', 'desc').execute();
}

/** The runs of one build number, newest first; one start time (ms) when given. */
export async function buildRunsOf(db: Db, repo: string, name: string, number: string, started?: number): Promise<BuildRow[]> {
  let q = withItem(db).where('builds.name', '=', name).where('builds.number', '=', number).where('builds.repo', '=', repo);
  if (started !== undefined) q = q.where('builds.started_ms', '=', started);
  return q.orderBy('builds.started_ms', 'desc').execute();
}

/** The artifacts (and dependencies, when asked) of a build item. */
export async function buildEntries(db: Db, itemId: number, kinds: ('artifact' | 'dependency')[]): Promise<BuildEntryRow[]> {
  if (kinds.length === 0) return [];
  return db.selectFrom('build_entries').select(['kind', 'module', 'name', 'type', 'scopes', 'sha1']).where('item_id', '=', itemId).where('kind', 'in', kinds).execute();
}

/** Files with one of these sha1s (the candidates for a build's artifacts), by sha1. */
export async function filesBySha1(db: Db, sha1s: string[]): Promise<{ id: number; repo: string; path: string; name: string; sha1: string }[]> {
  const out: { id: number; repo: string; path: string; name: string; sha1: string }[] = [];
  for (let i = 0; i < sha1s.length; i += BATCH) {
    const rows = await db
      .selectFrom('items')
      .select(['id', 'repo', 'path', 'name', 'sha1'])
      .where('sha1', 'in', sha1s.slice(i, i + BATCH))
      .where('type', '=', 'file')
      .execute();
    for (const r of rows) out.push({ id: Number(r.id), repo: r.repo, path: r.path, name: r.name, sha1: r.sha1! });
  }
  return out;
}
