import { closeSync, existsSync, openSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, MysqlDialect, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type Selectable, type Transaction } from 'kysely';
import type { Pool } from 'pg';
import type { DatabaseConfig } from '../config/db-config.js';
import { KeyBatch, paddedKeys } from './key-batch.js';
import { NulGuardPlugin } from './nul-guard.js';
import type { ItemsTable, Schema } from './schema.js';

export type DialectName = 'sqlite' | 'postgresql' | 'mysql';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/**
 * What a node's write paths reach of its change capture (services/replication/change-capture.ts
 * gives it its types; declared loosely here, as db/ imports nothing above it).
 */
export interface ChangeCaptureSlot {
  targetsOf(repo: string): readonly unknown[];
  record(change: object, trx?: Transaction<Schema>): Promise<number>;
}

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /**
   * SQLite only: the absolute path of the database file, for a second, read-only connection
   * on another thread (services/listing/listing-thread.ts). Undefined for an in-memory
   * database and on the other dialects.
   */
  readonly sqliteFile?: string;
  /**
   * The item with this `path_key`, read outside any transaction. The one query on the path of
   * every download, so it skips the query builder: a prepared statement on each dialect. On
   * PostgreSQL and MySQL the lookups of one event-loop turn go out as one query (`KeyBatch`),
   * sent after the last of them was asked for.
   */
  itemByKey(pathKey: string): Promise<Selectable<ItemsTable> | undefined>;
  /** PostgreSQL, MySQL: the batching of `itemByKey` (its query count, for tests and benches). */
  readonly itemLookups?: KeyBatch;
  /**
   * SQLite only: a number that grows whenever a commit changed the database, by any
   * connection (`PRAGMA data_version`, for the others) or by this one (`total_changes()`).
   * Undefined inside a transaction of this connection (its changes may yet roll back) and
   * on the other dialects. See services/serve/current-files.ts.
   */
  changeStamp?(): number | undefined;
  /**
   * The node's change capture for event replication (services/replication/change-capture.ts),
   * set by the node's wiring: every writer of items holds this Database, so the write paths
   * reach it here. Absent: no change is recorded.
   */
  changeCapture?: ChangeCaptureSlot;
  /** Cheap connectivity check used by ping and readiness. */
  ping(): Promise<void>;
  poolStats(): PoolStats;
  /**
   * Brings the query planner's statistics up to date. SQLite keeps none by itself: this runs
   * `PRAGMA optimize`, bounded by `analysis_limit`, and a SQLite node also runs it when it opens
   * the database, every hour and when it closes it. PostgreSQL's autovacuum and InnoDB's
   * persistent statistics keep theirs, about a minute after 10 % of a table changed; there this
   * ANALYZEs the item tables at once, for a caller that just changed most of them (a backup
   * import) and should not wait for that.
   */
  refreshStatistics?(): Promise<void>;
  close(): Promise<void>;
}


/** Write transactions take the write lock up front so concurrent processes queue instead of failing. */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(cfg);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg);
  }
}

/** better-sqlite3 with a statement cache: Kysely prepares every query, we prepare each SQL once. */
export function cachedStatements(raw: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => raw.close(),
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = raw.prepare(sql);
        if (cache.size > 2000) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** How often a SQLite connection refreshes the planner's statistics (`PRAGMA optimize`). */
const STATISTICS_EVERY_MS = 60 * 60 * 1000;
/** How long a statement waits for another process's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

export function openSqlite(file: string): Database {
  // Created private: SQLite gives the -wal and -shm files the mode of the database file.
  if (file !== ':memory:' && !existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  raw.pragma('foreign_keys = ON');
  // Statistics: without them the planner picks an index by shape only, and a checksum search
  // walks a whole repository through (repo, path) instead of looking the checksum up (6 ms
  // against 0.07 ms at 30,000 items). Each ANALYZE samples at most this many rows per index.
  raw.pragma('analysis_limit = 1000');
  // Never waits for the write lock (that would stall the event loop): when another process
  // holds it, this run is skipped and the next one catches up.
  const optimize = (mask = '0x10002') => {
    raw.pragma('busy_timeout = 0');
    try {
      raw.pragma(`optimize = ${mask}`);
    } catch {
      // SQLITE_BUSY
    } finally {
      raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  };
  optimize();
  const statistics = setInterval(() => optimize(), STATISTICS_EVERY_MS);
  statistics.unref();
  const db = new Kysely<Schema>({
    dialect: new ImmediateSqliteDialect({ database: cachedStatements(raw) as unknown as BetterSqlite3.Database }),
    plugins: [new NulGuardPlugin()],
  });
  let byKey: BetterSqlite3.Statement | undefined;
  const dataVersion = raw.prepare('pragma data_version').pluck();
  const ownChanges = raw.prepare('select total_changes()').pluck();
  return {
    db,
    dialect: 'sqlite',
    sqliteFile: file === ':memory:' || file === '' ? undefined : resolvePath(file),
    // Prepared on first use: the table exists only once migrations have run.
    itemByKey: async (key) => (byKey ??= raw.prepare('select * from items where path_key = ?')).get(key) as Selectable<ItemsTable> | undefined,
    // Both counters only grow, so their sum changes whenever either does.
    changeStamp: () => (raw.inTransaction ? undefined : (dataVersion.get() as number) + (ownChanges.get() as number)),
    async ping() {
      raw.prepare('select 1').get();
    },
    poolStats: () => ({ total: 1, idle: 1, waiting: 0, max: 1 }),
    refreshStatistics: async () => optimize(),
    close: async () => {
      clearInterval(statistics);
      if (raw.open) optimize('0xfffe');
      await db.destroy();
    },
  };
}

/**
 * A second, read-only connection to the SQLite database `file`, for another thread than the
 * one that owns the database (services/listing/listing-thread.ts). With the write-ahead log a
 * reader runs beside the writer; each statement reads the newest commit at its start, as the
 * owner's own reads outside a transaction do. Its waits (busy_timeout) hold only its thread.
 */
export function openSqliteReader(file: string): { db: Kysely<Schema>; close(): Promise<void> } {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  raw.pragma('query_only = ON');
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: cachedStatements(raw) as unknown as BetterSqlite3.Database }),
    plugins: [new NulGuardPlugin()],
  });
  return { db, close: () => db.destroy() };
}

/** PostgreSQL; the driver is loaded only when a node uses it (it costs start-up time). */
export async function openPostgres(config: DatabaseConfig): Promise<Database> {
  const { default: pg } = await import('pg');
  // int8 (count(*), bigint columns) as numbers: our values stay far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number.parseInt(v, 10));
  const pool: Pool = new pg.Pool({
    ...(config.pg ?? {}),
    max: config.poolMaxActive,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // A client whose server went away must not crash the process: idle clients report through
  // the pool, checked-out ones (say, inside a transaction between two statements) through
  // their own 'error' event; their next query fails and the request gets an error answer.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), plugins: [new NulGuardPlugin()] });
  // One prepared statement for any number of keys (an index scan per array element).
  const itemLookups = new KeyBatch(async (keys) => {
    const res = await pool.query<Selectable<ItemsTable>>({ name: 'arca_items_by_keys', text: 'select * from items where path_key = any($1::varchar[])', values: [keys] });
    return res.rows;
  });
  return {
    db,
    dialect: 'postgresql',
    itemByKey: (key) => itemLookups.get(key),
    itemLookups,
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: config.poolMaxActive }),
    async refreshStatistics() {
      await pool.query('analyze items, item_props, binaries');
    },
    close: () => db.destroy(),
  };
}

/** MySQL or MariaDB through mysql2, loaded only when a node uses it. */
export async function openMysql(config: DatabaseConfig): Promise<Database> {
  // Bundled, a CommonJS module comes back as the default export of its namespace.
  const mod = (await import('mysql2')) as typeof import('mysql2') & { default?: typeof import('mysql2') };
  const mysql = mod.default ?? mod;
  const c = config.mysql!;
  const pool = mysql.createPool({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    connectionLimit: config.poolMaxActive,
    maxIdle: Math.min(config.poolMaxIdle, config.poolMaxActive),
    idleTimeout: 30_000,
    connectTimeout: 10_000,
    charset: 'UTF8MB4_BIN',
    // Big integers and sums as numbers: our values stay far below 2^53.
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    ...(c.ssl ? { ssl: {} } : {}),
  });
  pool.on('connection', (conn) => {
    // A connection lost between statements must not crash the process (see openPostgres).
    conn.on('error', () => undefined);
    // Strict mode: an over-long value is an error, never silently truncated.
    conn.query("set session sql_mode = concat(@@sql_mode, ',STRICT_ALL_TABLES')");
  });
  const promisePool = pool.promise();
  const db = new Kysely<Schema>({ dialect: new MysqlDialect({ pool }), plugins: [new NulGuardPlugin()] });
  const internals = pool as unknown as { _allConnections?: { length: number }; _freeConnections?: { length: number }; _connectionQueue?: { length: number } };
  const itemLookups = new KeyBatch(async (keys) => {
    const { slots, values } = paddedKeys(keys);
    const [rows] = await promisePool.execute(`select * from items where path_key in (${'?,'.repeat(slots - 1)}?)`, values);
    return rows as Selectable<ItemsTable>[];
  });
  return {
    db,
    dialect: 'mysql',
    itemByKey: (key) => itemLookups.get(key),
    itemLookups,
    async ping() {
      await promisePool.query('select 1');
    },
    poolStats: () => ({
      total: internals._allConnections?.length ?? 0,
      idle: internals._freeConnections?.length ?? 0,
      waiting: internals._connectionQueue?.length ?? 0,
      max: config.poolMaxActive,
    }),
    async refreshStatistics() {
      await promisePool.query('analyze table items, item_props, binaries');
    },
    close: () => db.destroy(),
  };
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  switch (config.type) {
    case 'sqlite':
      return openSqlite(config.sqliteFile!);
    case 'postgresql':
      return openPostgres(config);
    case 'mysql':
      return openMysql(config);
  }
}
