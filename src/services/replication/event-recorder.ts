import type { Transaction } from 'kysely';
import type { Schema } from '../../db/schema.js';
import type { ReplicationEventQueue } from './event-queue.js';
import type { QueueTarget, ReplicationChange } from './event-types.js';

/**
 * The event targets of a repository: its push replications with `enableEventReplication`
 * (and `enabled`), from the replication configuration's in-memory copy. Synchronous on
 * purpose: a repository with none must cost its writers no query at all.
 */
export type EventTargetsOf = (repo: string) => readonly QueueTarget[];

/** Records a change for event replication; resolves to the events written (0: none configured). */
export type RecordChange = (change: ReplicationChange, trx?: Transaction<Schema>) => Promise<number>;

/**
 * What the deploy, delete, property and move paths call once they are wired (see
 * docs/replication-events.md, "Wiring"): inside the transaction of the change, after the
 * write that locked the item. Without event targets for the repository it returns at once,
 * touching no database.
 */
export function eventRecorder(queue: ReplicationEventQueue, targetsOf: EventTargetsOf): RecordChange {
  return async (change, trx) => {
    const targets = targetsOf(change.repo);
    if (targets.length === 0) return 0;
    return queue.enqueue(change, [...targets], trx);
  };
}

/** The recorder of a node without event replication: records nothing, costs nothing. */
export const recordNothing: RecordChange = async () => 0;
