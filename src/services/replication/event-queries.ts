import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../../db/schema.js';
import { DELIVERED, PENDING } from './event-types.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * The hot reads of the replication event queue, one builder each so their plans are checked
 * (event-queue-plans.test.ts): every one is a range of one index of migration 0022.
 */

/** Ready pending events of a target, in (next_at, id) order: `replication_events_ready`. */
export function readyWindowQuery(db: Db, target: string, now: number, limit: number) {
  return db
    .selectFrom('replication_events')
    .select(['id', 'path_key', 'attempts'])
    .where('target', '=', target)
    .where('state', '=', PENDING)
    .where('next_at', '<=', now)
    .orderBy('target')
    .orderBy('state')
    .orderBy('next_at')
    .orderBy('id')
    .limit(limit);
}

/** The lowest pending id of each of `keys` (its head): `replication_events_path`. */
export function headsQuery(db: Db, target: string, keys: string[]) {
  return db
    .selectFrom('replication_events')
    .select((eb) => ['path_key', eb.fn.min<number>('id').as('head')])
    .where('target', '=', target)
    .where('path_key', 'in', keys)
    .where('state', '=', PENDING)
    .groupBy('path_key');
}

/** The next pending event of one path: `replication_events_path`. */
export function nextOfPathQuery(db: Db, target: string, key: string) {
  return db.selectFrom('replication_events').select(['id', 'next_at']).where('target', '=', target).where('path_key', '=', key).where('state', '=', PENDING).orderBy('id').limit(1);
}

/** Count and lowest id of a target's events in `state`: `replication_events_ready`. */
export function depthQuery(db: Db, target: string, state: number) {
  return db
    .selectFrom('replication_events')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min<number>('id').as('oldest')])
    .where('target', '=', target)
    .where('state', '=', state);
}

/** A batch of delivered events finished before `before`: `replication_events_done`. */
export function pruneBatchQuery(db: Db, before: number, batch: number) {
  return db.selectFrom('replication_events').select('id').where('state', '=', DELIVERED).where('done_at', '<', before).orderBy('state').orderBy('done_at').orderBy('id').limit(batch);
}
