import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import { orIgnore } from '../../db/dialect.js';
import { BaseLockManager, checkLockArgs, type BaseOptions, type LockInfo, type LockLease } from './lock-manager.js';

/** Errors after which the whole operation is simply tried again (deadlock, serialization, lock wait). */
function transient(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === '40001' || e?.code === '40P01' || e?.errno === 1213 || e?.errno === 1205;
}

/**
 * The lock table on PostgreSQL and MySQL/MariaDB, through its own connection pool (the seed's
 * separate locking pool, sized like `pool.max.active`). Each operation is one short
 * transaction touching one row, so lock traffic never waits behind the main pool.
 *
 * Acquiring is a conditional UPDATE (`owner is null or expires_at <= now`) that also bumps the
 * token; both databases re-check that condition against the latest committed row when two
 * acquirers race, so exactly one of them gets the row.
 */
export class SqlLockManager extends BaseLockManager {
  constructor(
    private readonly database: Database,
    clock: Clock,
    options: BaseOptions & { ownsDatabase?: boolean } = {},
  ) {
    super(clock, options);
    if (database.dialect === 'sqlite') throw new Error('SqlLockManager serves PostgreSQL and MySQL/MariaDB; use SqliteLockManager');
    this.ownsDatabase = options.ownsDatabase ?? false;
  }

  private readonly ownsDatabase: boolean;

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!transient(err) || attempt >= 20) throw err;
        await this.sleep(attempt * 5);
      }
    }
  }

  async tryAcquire(name: string, owner: string, leaseMs: number): Promise<LockLease | undefined> {
    checkLockArgs(name, owner, leaseMs);
    return this.retrying(() =>
      this.database.db.transaction().execute(async (trx) => {
        const now = this.clock.now();
        const expiresAt = now + leaseMs;
        const updated = await trx
          .updateTable('cluster_locks')
          .set({ owner, token: sql<number>`token + 1`, acquired_at: now, expires_at: expiresAt })
          .where('lock_name', '=', name)
          .where((eb) => eb.or([eb('owner', 'is', null), eb('expires_at', '<=', now)]))
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 1) {
          const row = await trx.selectFrom('cluster_locks').select('token').where('lock_name', '=', name).executeTakeFirstOrThrow();
          return { name, owner, token: Number(row.token), acquiredAt: now, expiresAt };
        }
        // No row yet (the first acquisition of this name), or held by someone else.
        const inserted = await orIgnore(
          trx,
          trx.insertInto('cluster_locks').values({ lock_name: name, owner, token: 1, acquired_at: now, expires_at: expiresAt }),
          'lock_name',
        ).executeTakeFirst();
        return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1 ? { name, owner, token: 1, acquiredAt: now, expiresAt } : undefined;
      }),
    );
  }

  async renew(lease: LockLease, leaseMs: number): Promise<LockLease | undefined> {
    checkLockArgs(lease.name, lease.owner, leaseMs);
    return this.retrying(async () => {
      const expiresAt = this.clock.now() + leaseMs;
      const r = await this.database.db
        .updateTable('cluster_locks')
        .set({ expires_at: expiresAt })
        .where('lock_name', '=', lease.name)
        .where('owner', '=', lease.owner)
        .where('token', '=', lease.token)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? { ...lease, expiresAt } : undefined;
    });
  }

  async release(lease: LockLease): Promise<boolean> {
    return this.retrying(async () => {
      const r = await this.database.db
        .updateTable('cluster_locks')
        .set({ owner: null, expires_at: 0 })
        .where('lock_name', '=', lease.name)
        .where('owner', '=', lease.owner)
        .where('token', '=', lease.token)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async list(prefix = ''): Promise<LockInfo[]> {
    let q = this.database.db.selectFrom('cluster_locks').selectAll();
    if (prefix) q = q.where(sql<string>`substr(lock_name, 1, ${prefix.length})`, '=', prefix);
    const rows = await q.orderBy('lock_name').execute();
    return rows.map((r) => this.info(r.lock_name, r));
  }

  async close(): Promise<void> {
    if (this.ownsDatabase) await this.database.close();
  }
}
