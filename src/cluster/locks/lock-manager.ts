import type { Transaction } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { dialectOf } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';

/** A granted lease on a named lock. `token` is the fencing token: it grows with every acquisition. */
export interface LockLease {
  name: string;
  owner: string;
  token: number;
  acquiredAt: number;
  expiresAt: number;
}

/** What the lock table says about one lock. */
export interface LockInfo {
  name: string;
  /** null once released. */
  owner: string | null;
  token: number;
  acquiredAt: number;
  expiresAt: number;
  /** Owned and its lease has not expired. */
  held: boolean;
}

export interface WaitOptions {
  /** Give up after this long (measured with the manager's clock). */
  timeoutMs: number;
  /** Time between attempts; each wait is jittered by ±50 %. */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Named cluster locks with leases and fencing tokens, shared by every node of the database.
 *
 * - `tryAcquire` grants the lock when it is free (never taken, released, or its lease has
 *   expired) and returns a lease whose token is greater than every token granted before for
 *   that name. A held lock is not re-entrant: its own owner gets undefined too.
 * - A lease stays *current* until another owner acquires the lock or it is released. `renew`
 *   and `assertHeld` succeed exactly while it is current: an expired lease that nobody has
 *   taken yet can still be renewed, since no other owner can have written under it.
 * - `assertHeld(trx, lease)` is the fence: a critical section calls it inside its database
 *   transaction; it throws LockLostError when the lease is no longer current, and it locks the
 *   lock's row until the transaction ends, so a takeover waits for the commit.
 *
 * Every implementation runs the shared suite in `testing/conformance.ts`.
 */
export interface LockManager {
  tryAcquire(name: string, owner: string, leaseMs: number): Promise<LockLease | undefined>;
  /** Waits for the lock; throws LockTimeoutError when `timeoutMs` passes first. */
  acquire(name: string, owner: string, leaseMs: number, wait: WaitOptions): Promise<LockLease>;
  /** Extends a current lease to now + leaseMs; undefined once it is no longer current. */
  renew(lease: LockLease, leaseMs: number): Promise<LockLease | undefined>;
  /** Frees the lock when the lease is current; false when it was not (nothing changes then). */
  release(lease: LockLease): Promise<boolean>;
  inspect(name: string): Promise<LockInfo | undefined>;
  /** Locks whose name starts with `prefix`. */
  list(prefix?: string): Promise<LockInfo[]>;
  /** The fence, inside the caller's transaction on the main database (see above). */
  assertHeld(trx: Transaction<Schema>, lease: LockLease, extendMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A lease that is no longer current: another owner took the lock, or it was released. */
export class LockLostError extends Error {
  constructor(
    readonly lease: LockLease,
    readonly current: { owner: string | null; token: number } | undefined,
  ) {
    super(
      `Lock '${lease.name}' is no longer held by '${lease.owner}' with token ${lease.token}` +
        (current ? ` (now ${current.owner ? `held by '${current.owner}'` : 'free'}, token ${current.token})` : ' (no such lock)'),
    );
    this.name = 'LockLostError';
  }
}

export class LockTimeoutError extends Error {
  constructor(
    readonly lockName: string,
    readonly timeoutMs: number,
    readonly holder: LockInfo | undefined,
  ) {
    super(`Timed out after ${timeoutMs} ms waiting for lock '${lockName}'${holder?.owner ? ` (held by '${holder.owner}')` : ''}`);
    this.name = 'LockTimeoutError';
  }
}

export const MAX_LOCK_NAME = 191;
export const MAX_OWNER = 255;

export function checkLockArgs(name: string, owner: string, leaseMs: number): void {
  if (name.length === 0 || name.length > MAX_LOCK_NAME) throw new RangeError(`Lock names have 1 to ${MAX_LOCK_NAME} characters: '${name}'`);
  if (owner.length === 0 || owner.length > MAX_OWNER) throw new RangeError(`Lock owners have 1 to ${MAX_OWNER} characters`);
  if (!Number.isInteger(leaseMs) || leaseMs <= 0) throw new RangeError(`A lease lasts a positive whole number of milliseconds, got ${leaseMs}`);
}

export const realSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export interface BaseOptions {
  /** Default wait between attempts of `acquire` (100 ms). */
  pollMs?: number;
  /** How `acquire` waits between attempts; tests with a fake clock advance it here. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface LockRow {
  owner: string | null;
  token: number;
  expires_at: number;
}

/** The parts every implementation shares: waiting, the fence, and reading rows. */
export abstract class BaseLockManager implements LockManager {
  protected readonly pollMs: number;
  protected readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(
    protected readonly clock: Clock,
    options: BaseOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.sleep = options.sleep ?? realSleep;
  }

  abstract tryAcquire(name: string, owner: string, leaseMs: number): Promise<LockLease | undefined>;
  abstract renew(lease: LockLease, leaseMs: number): Promise<LockLease | undefined>;
  abstract release(lease: LockLease): Promise<boolean>;
  abstract list(prefix?: string): Promise<LockInfo[]>;
  abstract close(): Promise<void>;

  async inspect(name: string): Promise<LockInfo | undefined> {
    return (await this.list(name)).find((l) => l.name === name);
  }

  async acquire(name: string, owner: string, leaseMs: number, wait: WaitOptions): Promise<LockLease> {
    const deadline = this.clock.now() + wait.timeoutMs;
    const poll = wait.pollMs ?? this.pollMs;
    for (;;) {
      wait.signal?.throwIfAborted();
      const lease = await this.tryAcquire(name, owner, leaseMs);
      if (lease) return lease;
      const left = deadline - this.clock.now();
      if (left <= 0) throw new LockTimeoutError(name, wait.timeoutMs, await this.inspect(name).catch(() => undefined));
      await this.sleep(Math.max(1, Math.min(left, Math.round(poll * (0.5 + Math.random())))), wait.signal);
    }
  }

  async assertHeld(trx: Transaction<Schema>, lease: LockLease, extendMs?: number): Promise<void> {
    let q = trx.selectFrom('cluster_locks').select(['owner', 'token', 'expires_at']).where('lock_name', '=', lease.name);
    // SQLite write transactions already hold the database's one write lock.
    if (dialectOf(trx) !== 'sqlite') q = q.forUpdate();
    const row = (await q.executeTakeFirst()) as LockRow | undefined;
    if (!row || row.owner !== lease.owner || Number(row.token) !== lease.token) {
      throw new LockLostError(lease, row ? { owner: row.owner, token: Number(row.token) } : undefined);
    }
    if (extendMs !== undefined) {
      await trx
        .updateTable('cluster_locks')
        .set({ expires_at: this.clock.now() + extendMs })
        .where('lock_name', '=', lease.name)
        .execute();
    }
  }

  protected info(name: string, row: { owner: string | null; token: number; acquired_at: number; expires_at: number }): LockInfo {
    const expiresAt = Number(row.expires_at);
    return {
      name,
      owner: row.owner,
      token: Number(row.token),
      acquiredAt: Number(row.acquired_at),
      expiresAt,
      held: row.owner !== null && expiresAt > this.clock.now(),
    };
  }
}
