import { MysqlAdapter, PostgresAdapter, type InsertQueryBuilder, type Kysely, type Transaction, type UpdateObject } from 'kysely';
import type { DialectName } from './database.js';
import type { Schema } from './schema.js';

type AnyDb = Kysely<Schema> | Transaction<Schema>;

/** Which SQL dialect a Kysely instance (or transaction) speaks. */
export function dialectOf(db: AnyDb): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof PostgresAdapter) return 'postgresql';
  return 'sqlite';
}

/**
 * Inserts, doing nothing when `column` (a unique key) already holds the value:
 * `ON CONFLICT DO NOTHING` on SQLite and PostgreSQL, `INSERT IGNORE` on MySQL/MariaDB.
 */
export function orIgnore<T extends keyof Schema & string, O>(db: AnyDb, qb: InsertQueryBuilder<Schema, T, O>, column: string): InsertQueryBuilder<Schema, T, O> {
  if (dialectOf(db) === 'mysql') return qb.ignore();
  return qb.onConflict((oc) => oc.column(column as never).doNothing());
}

/**
 * Inserts, or updates `set` when `column` (a unique key) already holds the value. The row is
 * locked either way until the transaction ends, which is what callers that use it as a lock
 * rely on.
 */
export function orUpdate<T extends keyof Schema & string, O>(
  db: AnyDb,
  qb: InsertQueryBuilder<Schema, T, O>,
  column: string,
  set: UpdateObject<Schema, T, T>,
): InsertQueryBuilder<Schema, T, O> {
  if (dialectOf(db) === 'mysql') return qb.onDuplicateKeyUpdate(set as never);
  return qb.onConflict((oc) => oc.column(column as never).doUpdateSet(set as never));
}
