import { createHash } from 'node:crypto';
import type { BinaryProvider } from '../binstore/binary-provider.js';
import type { Clock } from '../core/clock.js';
import { MD5_PENDING } from '../core/digests.js';
import type { Database } from '../db/database.js';

export interface Md5BackfillOptions {
  /** Wait until no binary was queued for this long, so a burst of uploads finishes first (default 1 s). */
  quietMs?: number;
  /** How often each node looks for binaries whose MD5 is still pending (default 5 min). */
  sweepMs?: number;
  /** A sweep takes binaries at least this old: younger ones are their own node's work (default 1 min). */
  sweepAgeMs?: number;
  /** Told about a binary that could not be read (once per binary and process). */
  onError?: (sha1: string, err: unknown) => void;
}

/** The binaries whose MD5 is still pending (tombstones excluded). */
function pendingBinaries(database: Database) {
  return database.db.selectFrom('binaries').where('md5', '=', MD5_PENDING).where('size', '>=', 0);
}

export async function pendingMd5Count(database: Database): Promise<number> {
  const row = await pendingBinaries(database)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Computes the MD5 of binaries staged without one (registry blobs: see StageOptions.md5),
 * after the upload, when the node has been quiet for a moment. The node that committed a
 * binary queues it; every node also sweeps the database now and then for pending binaries
 * left by a node that stopped. The binaries row and every item of the binary are updated in
 * one transaction that locks the row first, as writers of items do, so an item written
 * meanwhile either sees the MD5 or is updated with the others. Computing an MD5 twice (two
 * nodes sweeping at once) is harmless: the updates are conditional and agree.
 */
export class Md5Backfill {
  private readonly queue = new Set<string>();
  private readonly failed = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly quietMs: number;
  private readonly sweepMs: number;
  private readonly sweepAgeMs: number;

  constructor(
    private readonly database: Database,
    private readonly provider: BinaryProvider,
    private readonly clock: Clock,
    private readonly options: Md5BackfillOptions = {},
  ) {
    this.quietMs = options.quietMs ?? 1_000;
    this.sweepMs = options.sweepMs ?? 300_000;
    this.sweepAgeMs = options.sweepAgeMs ?? 60_000;
  }

  /** Starts the periodic sweep (a node's background duty; tests call `runOnce` instead). */
  start(): void {
    if (this.sweepTimer || this.stopped) return;
    this.sweepTimer = setInterval(() => this.kick(true), this.sweepMs);
    this.sweepTimer.unref();
  }

  /** Queues a binary committed with a pending MD5; it is hashed once uploads have been quiet for `quietMs`. */
  enqueue(sha1: string): void {
    if (this.stopped) return;
    this.queue.add(sha1);
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      this.kick(false);
    }, this.quietMs);
    this.quietTimer.unref();
  }

  /** Stops the timers and waits for the binary being hashed (the rest waits for a sweep). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.running;
  }

  /**
   * Hashes the queued binaries, then (with `sweep`) the pending binaries of the database
   * older than `sweepAgeMs` (`0`: all of them). Returns how many binaries got their MD5.
   */
  async runOnce(sweep = true, sweepAgeMs = this.sweepAgeMs): Promise<number> {
    // One pass at a time: a call made during a pass runs after it.
    const run = (this.running ?? Promise.resolve()).then(() => this.pass(sweep, sweepAgeMs));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.running = settled;
    void settled.then(() => {
      if (this.running === settled) this.running = undefined;
    });
    return run;
  }

  private async pass(sweep: boolean, sweepAgeMs: number): Promise<number> {
    let done = 0;
    while (this.queue.size > 0 && !this.stopped) {
      const sha1 = this.queue.values().next().value as string;
      this.queue.delete(sha1);
      if (await this.fill(sha1)) done++;
    }
    if (!sweep) return done;
    await this.catchUpItems();
    const before = this.clock.now() - sweepAgeMs;
    for (;;) {
      if (this.stopped) return done;
      const rows = await pendingBinaries(this.database)
        .select('sha1')
        .where('created', '<=', before)
        .limit(100)
        .execute();
      const todo = rows.map((r) => r.sha1).filter((s) => !this.failed.has(s));
      if (todo.length === 0) return done;
      for (const sha1 of todo) {
        if (this.stopped) return done;
        if (await this.fill(sha1)) done++;
        else this.failed.add(sha1);
      }
    }
  }

  private kick(sweep: boolean): void {
    if (this.stopped) return;
    this.runOnce(sweep).catch((err: unknown) => this.options.onError?.('', err));
  }

  /**
   * Gives items still without an MD5 the one their binary has by now: the safety net for an
   * item whose transaction read the binaries row before the backfill's update became
   * visible to it (a repeatable-read snapshot taken early).
   */
  private async catchUpItems(): Promise<void> {
    await this.database.db
      .updateTable('items')
      .set((eb) => ({ md5: eb.selectFrom('binaries').select('binaries.md5').whereRef('binaries.sha1', '=', 'items.sha1') }))
      .where('items.md5', '=', MD5_PENDING)
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('binaries').select('binaries.sha1').whereRef('binaries.sha1', '=', 'items.sha1').where('binaries.md5', '<>', MD5_PENDING)),
      )
      .execute();
  }

  /** Computes and records one binary's MD5; false when it was no longer pending or could not be read. */
  private async fill(sha1: string): Promise<boolean> {
    const row = await this.database.db.selectFrom('binaries').select(['md5', 'size']).where('sha1', '=', sha1).executeTakeFirst();
    if (!row || row.md5 !== MD5_PENDING || Number(row.size) < 0) return false;
    let md5: string;
    try {
      const hash = createHash('md5');
      for await (const chunk of await this.provider.read(sha1)) hash.update(chunk as Uint8Array);
      md5 = hash.digest('hex');
    } catch (err) {
      // Gone meanwhile (garbage collection) or unreadable: the scrub task reports the latter.
      if (!this.failed.has(sha1)) this.options.onError?.(sha1, err);
      this.failed.add(sha1);
      return false;
    }
    await this.database.db.transaction().execute(async (trx) => {
      await trx.updateTable('binaries').set({ md5 }).where('sha1', '=', sha1).where('md5', '=', MD5_PENDING).execute();
      await trx.updateTable('items').set({ md5 }).where('sha1', '=', sha1).where('md5', '=', MD5_PENDING).execute();
    });
    return true;
  }
}
