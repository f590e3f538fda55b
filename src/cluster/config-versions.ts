import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import { dialectOf } from '../db/dialect.js';
import type { Db } from '../db/items.js';
import type { Schema } from '../db/schema.js';
import { CONFIG_CHANNEL } from './pg-change-listener.js';

export type ConfigDomain = 'repositories' | 'security' | 'system';

/** How often every process reads the version table when nothing told it sooner. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/**
 * Marks a domain changed, inside the transaction that changed it. On PostgreSQL the same
 * transaction also sends NOTIFY, which the server delivers only if and when it commits.
 */
export async function bumpVersion(db: Db, domain: ConfigDomain): Promise<void> {
  await db
    .updateTable('config_versions')
    .set({ version: sql<number>`version + 1` })
    .where('domain', '=', domain)
    .execute();
  if (dialectOf(db) === 'postgresql') await sql`select pg_notify(${CONFIG_CHANNEL}, ${domain})`.execute(db);
}

/** A push source of change announcements (PostgreSQL LISTEN); the poll is the fallback. */
export interface ChangeNotifications {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
}

export interface ConfigVersionsOptions {
  /** Poll period of the version table (`arca.propagation.pollIntervalMs`). */
  intervalMs?: number;
  /**
   * Builds the push source, given what to call on a notification and after each
   * (re)connection. Absent on SQLite and MySQL/MariaDB, where polling is the only path.
   */
  notifications?: (hooks: { onNotify(domain: string): void; onConnected(): void }) => ChangeNotifications;
}

/**
 * Watches the per-domain version counters so every process (worker or node) drops its caches
 * shortly after a change made anywhere: at once in the process that made it, within
 * milliseconds elsewhere when PostgreSQL announces it, and within one poll period otherwise.
 */
export class ConfigVersions {
  private readonly seen = new Map<string, number>();
  private readonly listeners = new Map<ConfigDomain, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private readonly intervalMs: number;
  private notifications: ChangeNotifications | undefined;

  constructor(
    private readonly database: Database,
    options: ConfigVersionsOptions | number = {},
  ) {
    const o = typeof options === 'number' ? { intervalMs: options } : options;
    this.intervalMs = o.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.notifications = o.notifications?.({
      // A notification only says "look now": the version table stays the one truth, so a
      // notification that arrives twice, late, or for a rolled-back change does no harm.
      onNotify: () => this.pollSoon(),
      onConnected: () => this.pollSoon(),
    });
  }

  /** True while the push path (PostgreSQL LISTEN) is connected. */
  get pushConnected(): boolean {
    return this.notifications?.connected ?? false;
  }

  on(domain: ConfigDomain, listener: () => void): void {
    let set = this.listeners.get(domain);
    if (!set) this.listeners.set(domain, (set = new Set()));
    set.add(listener);
  }

  /**
   * Runs `fn` in one transaction that also bumps the domain's version, then drops this
   * process's caches at once (the others follow on the notification or their next poll).
   */
  async change<T>(domain: ConfigDomain, fn: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    const out = await this.database.db.transaction().execute(async (trx) => {
      const r = await fn(trx);
      await bumpVersion(trx, domain);
      return r;
    });
    this.changedLocally(domain);
    return out;
  }

  /** Fires listeners locally at once (the change was made by this process). */
  changedLocally(domain: ConfigDomain): void {
    for (const l of this.listeners.get(domain) ?? []) l();
  }

  /**
   * Reads the version table and fires the listeners of every domain whose version moved. A
   * call while a read is under way waits for it and then reads once more, so a change
   * committed just after that read started is not missed.
   */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.readOnce();
        } while (this.again);
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  private async readOnce(): Promise<void> {
    const rows = await this.database.db.selectFrom('config_versions').select(['domain', 'version']).execute();
    for (const r of rows) {
      const v = Number(r.version);
      const prev = this.seen.get(r.domain);
      this.seen.set(r.domain, v);
      if (prev !== undefined && prev !== v) this.changedLocally(r.domain as ConfigDomain);
    }
  }

  private pollSoon(): void {
    this.poll().catch(() => undefined);
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => this.pollSoon(), this.intervalMs);
    this.timer.unref();
    await this.notifications?.start();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.notifications?.stop();
  }
}
