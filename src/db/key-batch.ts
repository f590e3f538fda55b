import type { Selectable } from 'kysely';
import type { ItemsTable } from './schema.js';

type Row = Selectable<ItemsTable>;

interface Waiter {
  resolve(row: Row | undefined): void;
  reject(err: unknown): void;
}

/** Distinct keys per query at most: a turn with more sends several queries. */
export const MAX_KEYS_PER_QUERY = 256;

/**
 * Item lookups by `path_key` gathered over one turn of the event loop and sent as one query
 * (`where path_key in (…)`) on a `setImmediate`, for the dialects where every lookup is a round
 * trip (PostgreSQL, MySQL). The download path asks for one item per request; under load the
 * requests parsed in one turn share a query instead of taking one each, and requests for the
 * same file share one key.
 *
 * Read-after-write holds as with one query per lookup: the query is sent after every call it
 * answers was made, so it sees every commit that completed before any of those calls.
 */
export class KeyBatch {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;
  private readonly flushNow = () => this.flush();
  /** Queries sent (for tests and the bench). */
  queries = 0;

  constructor(private readonly fetch: (keys: string[]) => Promise<Row[]>) {}

  get(key: string): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.pending.get(key);
      if (list) list.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_QUERY) this.send(keys.slice(i, i + MAX_KEYS_PER_QUERY), batch);
  }

  private send(keys: string[], batch: Map<string, Waiter[]>): void {
    this.queries++;
    this.fetch(keys).then(
      (rows) => {
        const byKey = new Map<string, Row>();
        for (const r of rows) byKey.set(r.path_key, r);
        for (const k of keys) for (const w of batch.get(k)!) w.resolve(byKey.get(k));
      },
      (err: unknown) => {
        for (const k of keys) for (const w of batch.get(k)!) w.reject(err);
      },
    );
  }
}

/**
 * The placeholders of a MySQL `in (…)` list for `n` keys, rounded up to a power of two (the
 * list is padded by repeating the last key), so each connection prepares at most nine statements.
 */
export function paddedKeys(keys: string[]): { slots: number; values: string[] } {
  let slots = 1;
  while (slots < keys.length) slots *= 2;
  const values = keys.slice();
  while (values.length < slots) values.push(keys[keys.length - 1]);
  return { slots, values };
}
