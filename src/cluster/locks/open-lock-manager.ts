import type { DatabaseConfig } from '../../config/db-config.js';
import type { Clock } from '../../core/clock.js';
import { openDatabase } from '../../db/database.js';
import type { BaseOptions, LockManager } from './lock-manager.js';
import { SqliteLockManager } from './sqlite-lock-manager.js';
import { SqlLockManager } from './sql-lock-manager.js';

export interface LockPoolOptions extends BaseOptions {
  /** Connections of the lock pool; defaults to the main pool's `pool.max.active`, as the seed says. */
  poolMaxActive?: number;
}

/**
 * The lock manager of one process, on its own connections opened from the node's database
 * settings: a second pool on PostgreSQL and MySQL/MariaDB, one more connection on SQLite.
 */
export async function openLockManager(config: DatabaseConfig, clock: Clock, options: LockPoolOptions = {}): Promise<LockManager> {
  if (config.type === 'sqlite') return new SqliteLockManager(config.sqliteFile!, clock, options);
  const max = options.poolMaxActive && options.poolMaxActive > 0 ? options.poolMaxActive : config.poolMaxActive;
  const database = await openDatabase({ ...config, poolMaxActive: max, poolMaxIdle: Math.min(config.poolMaxIdle, max) });
  return new SqlLockManager(database, clock, { ...options, ownsDatabase: true });
}
