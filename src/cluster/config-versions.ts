import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import type { Db } from '../db/items.js';
import type { Schema } from '../db/schema.js';

export type ConfigDomain = 'repositories' | 'security' | 'system';

/** Marks a domain changed, inside the transaction that changed it. */
export async function bumpVersion(db: Db, domain: ConfigDomain): Promise<void> {
  await db
    .updateTable('config_versions')
    .set({ version: sql<number>`version + 1` })
    .where('domain', '=', domain)
    .execute();
}

/**
 * Watches the per-domain version counters so every process (worker or node) drops its caches
 * shortly after a change made anywhere. Polling is the fallback that works on every dialect.
 */
export class ConfigVersions {
  private readonly seen = new Map<string, number>();
  private readonly listeners = new Map<ConfigDomain, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly database: Database,
    private readonly intervalMs = 1000,
  ) {}

  on(domain: ConfigDomain, listener: () => void): void {
    let set = this.listeners.get(domain);
    if (!set) this.listeners.set(domain, (set = new Set()));
    set.add(listener);
  }

  /**
   * Runs `fn` in one transaction that also bumps the domain's version, then drops this
   * process's caches at once (the others follow on their next poll).
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

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const rows = await this.database.db.selectFrom('config_versions').select(['domain', 'version']).execute();
      for (const r of rows) {
        const prev = this.seen.get(r.domain);
        this.seen.set(r.domain, Number(r.version));
        if (prev !== undefined && prev !== Number(r.version)) this.changedLocally(r.domain as ConfigDomain);
      }
    } finally {
      this.polling = false;
    }
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.poll().catch(() => undefined);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
