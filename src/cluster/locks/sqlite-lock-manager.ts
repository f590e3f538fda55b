import BetterSqlite3 from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import { BaseLockManager, checkLockArgs, type BaseOptions, type LockInfo, type LockLease } from './lock-manager.js';

interface Row {
  lock_name: string;
  owner: string | null;
  token: number;
  acquired_at: number;
  expires_at: number;
}

function busy(err: unknown): boolean {
  return typeof (err as { code?: string })?.code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');
}

/**
 * The lock table on the embedded SQLite database, through one more connection to the file.
 *
 * better-sqlite3 is synchronous, and a connection waiting for SQLite's write lock would block
 * the whole event loop, including the main connection's open transaction that holds that
 * lock (a deadlock until the busy timeout). So this connection never waits inside SQLite: each
 * operation is one synchronous `BEGIN IMMEDIATE … COMMIT`, with a busy timeout of 0, and when
 * the write lock is taken it yields to the event loop and tries again.
 */
export class SqliteLockManager extends BaseLockManager {
  private readonly raw: BetterSqlite3.Database;
  private readonly busyRetryMs: number;
  private readonly ops: {
    acquire: (name: string, owner: string, now: number, expiresAt: number) => number | undefined;
    renew: (name: string, owner: string, token: number, expiresAt: number) => boolean;
    release: (name: string, owner: string, token: number) => boolean;
  };

  constructor(file: string, clock: Clock, options: BaseOptions & { busyRetryMs?: number } = {}) {
    super(clock, options);
    this.busyRetryMs = options.busyRetryMs ?? 30_000;
    const raw = new BetterSqlite3(file);
    this.raw = raw;
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 0');
    const take = raw.prepare(
      'update cluster_locks set owner = ?, token = token + 1, acquired_at = ?, expires_at = ? where lock_name = ? and (owner is null or expires_at <= ?)',
    );
    const insert = raw.prepare('insert or ignore into cluster_locks (lock_name, owner, token, acquired_at, expires_at) values (?, ?, 1, ?, ?)');
    const tokenOf = raw.prepare('select token from cluster_locks where lock_name = ?').pluck();
    const renew = raw.prepare('update cluster_locks set expires_at = ? where lock_name = ? and owner = ? and token = ?');
    const release = raw.prepare('update cluster_locks set owner = null, expires_at = 0 where lock_name = ? and owner = ? and token = ?');
    const acquire = raw.transaction((name: string, owner: string, now: number, expiresAt: number): number | undefined => {
      if (take.run(owner, now, expiresAt, name, now).changes === 1) return Number(tokenOf.get(name));
      return insert.run(name, owner, now, expiresAt).changes === 1 ? 1 : undefined;
    });
    this.ops = {
      acquire: (name, owner, now, expiresAt) => acquire.immediate(name, owner, now, expiresAt),
      renew: (name, owner, token, expiresAt) => renew.run(expiresAt, name, owner, token).changes === 1,
      release: (name, owner, token) => release.run(name, owner, token).changes === 1,
    };
  }

  /** Runs one synchronous operation, yielding to the event loop while another connection writes. */
  private async retrying<T>(fn: () => T): Promise<T> {
    const started = performance.now();
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        return fn();
      } catch (err) {
        if (!busy(err) || performance.now() - started > this.busyRetryMs) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async tryAcquire(name: string, owner: string, leaseMs: number): Promise<LockLease | undefined> {
    checkLockArgs(name, owner, leaseMs);
    return this.retrying(() => {
      const now = this.clock.now();
      const token = this.ops.acquire(name, owner, now, now + leaseMs);
      return token === undefined ? undefined : { name, owner, token, acquiredAt: now, expiresAt: now + leaseMs };
    });
  }

  async renew(lease: LockLease, leaseMs: number): Promise<LockLease | undefined> {
    checkLockArgs(lease.name, lease.owner, leaseMs);
    return this.retrying(() => {
      const expiresAt = this.clock.now() + leaseMs;
      return this.ops.renew(lease.name, lease.owner, lease.token, expiresAt) ? { ...lease, expiresAt } : undefined;
    });
  }

  async release(lease: LockLease): Promise<boolean> {
    return this.retrying(() => this.ops.release(lease.name, lease.owner, lease.token));
  }

  async list(prefix = ''): Promise<LockInfo[]> {
    const rows = this.raw
      .prepare('select * from cluster_locks where substr(lock_name, 1, ?) = ? order by lock_name')
      .all(prefix.length, prefix) as Row[];
    return rows.map((r) => this.info(r.lock_name, r));
  }

  async close(): Promise<void> {
    if (this.raw.open) this.raw.close();
  }
}
