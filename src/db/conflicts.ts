/** Deadlocks, serialisation failures and lock-wait timeouts: the transaction is simply tried again. */
export function isConflict(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === '40P01' || e?.code === '40001' || e?.errno === 1213 || e?.errno === 1205;
}

/**
 * Runs `fn` again (a few times) when the database aborted it for a lock conflict, as long as
 * `retryable()` says nothing was done that a new run would repeat wrongly. The pause grows
 * and is jittered, so transactions that deadlocked each other do not meet again in step.
 */
export async function retryConflicts<T>(fn: () => Promise<T>, attempts = 8, retryable: () => boolean = () => true): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isConflict(err) || !retryable()) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 10 * i));
    }
  }
}

/** A unique or primary key violation (PostgreSQL 23505, MySQL/MariaDB 1062, SQLite's constraint codes). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === '23505' || e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
