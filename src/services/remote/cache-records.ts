import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import { pathKey } from '../../db/items.js';
import type { Schema } from '../../db/schema.js';

/** One row of `remote_cache` (migration 0007): what the upstream last said about a path. */
export interface RemoteCacheRecord {
  path_key: string;
  repo: string;
  path: string;
  /** 'found' (the item holds the copy) or 'missing' (the upstream answered 404: negative cache). */
  status: 'found' | 'missing';
  /** When the upstream was last asked (epoch ms). */
  checked: number;
  etag: string | null;
  last_modified: string | null;
  upstream_url: string | null;
}

type CacheSchema = Schema & { remote_cache: RemoteCacheRecord };
type AnyDb = Kysely<Schema> | Transaction<Schema>;

function typed(db: AnyDb): Kysely<CacheSchema> {
  return db as unknown as Kysely<CacheSchema>;
}

export async function getCacheRecord(database: Database, repo: string, path: string): Promise<RemoteCacheRecord | undefined> {
  return typed(database.db).selectFrom('remote_cache').selectAll().where('path_key', '=', pathKey(repo, path)).executeTakeFirst();
}

/** Inserts or replaces the record of a path (inside the caller's transaction when given one). */
export async function putCacheRecord(db: AnyDb, record: Omit<RemoteCacheRecord, 'path_key'>): Promise<void> {
  const key = pathKey(record.repo, record.path);
  const t = typed(db);
  await t.deleteFrom('remote_cache').where('path_key', '=', key).execute();
  await t.insertInto('remote_cache').values({ ...record, path_key: key }).execute();
}

export async function touchCacheRecord(database: Database, repo: string, path: string, checked: number): Promise<void> {
  await typed(database.db).updateTable('remote_cache').set({ checked }).where('path_key', '=', pathKey(repo, path)).execute();
}

/** Forgets every record of a repository (its cache was deleted or the repository removed). */
export async function dropCacheRecords(db: AnyDb, repo: string, path = ''): Promise<void> {
  let q = typed(db).deleteFrom('remote_cache').where('repo', '=', repo);
  if (path !== '') {
    const prefix = `${path}/`;
    q = q.where((eb) => eb.or([eb('path', '=', path), eb(sql<string>`substr(path, 1, ${prefix.length})`, '=', prefix)]));
  }
  await q.execute();
}
