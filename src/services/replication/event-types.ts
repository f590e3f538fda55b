import { createHash } from 'node:crypto';
import { ArcaError } from '../../core/errors.js';

/** What a replication event asks the target to do with one path. */
export type ReplicationEventKind = 'deploy' | 'delete' | 'props' | 'move';
export const EVENT_KINDS: readonly ReplicationEventKind[] = ['deploy', 'delete', 'props', 'move'];

/** Row states of `replication_events` (migration 0022). */
export const PENDING = 0;
export const DELIVERED = 1;
export const FAILED = 2;
/** `next_at` of a row waiting behind an earlier pending event of its path (2^52: later than any clock). */
export const PARKED = 2 ** 52;
/** Largest JSON payload an event carries; events describe a change, they never carry content. */
export const MAX_PAYLOAD_CHARS = 4096;

/** One change of one path on this site, as the deploy/delete/props/move paths describe it. */
export interface ReplicationChange {
  repo: string;
  /** Path of the item inside the repository, without a leading slash. */
  path: string;
  kind: ReplicationEventKind;
  /** deploy, move: the binary the target needs (held from GC while the event is pending). */
  sha1?: string;
  sha256?: string;
  size?: number;
  /** deploy, props: the item's properties after the change. */
  props?: Record<string, string[]>;
  /** move: the new path (the event is ordered with the events of the old path). */
  to?: string;
  /**
   * The site this change first came from, when it arrived by replication; null or absent for
   * a change made here. No event is written for a target of that site (loop detection).
   */
  origin?: string | null;
}

/** A push target of a repository, as the replication configuration names it. */
export interface QueueTarget {
  /** Stable key of the target (repository and target URL); what workers claim by. */
  key: string;
  /** The target's site id, when known: changes that came from that site are not sent back. */
  siteId?: string;
}

/** An event handed to a worker by `claim`. */
export interface ClaimedEvent {
  id: number;
  target: string;
  repo: string;
  path: string;
  kind: ReplicationEventKind;
  payload: { sha1?: string; sha256?: string; size?: number; props?: Record<string, string[]>; to?: string };
  origin: string | null;
  created: number;
  /** Attempts so far, this one included. */
  attempts: number;
  /** The claim's fence: `complete` and `fail` act only while the event is still this claim's. */
  fence: string;
  leaseUntil: number;
}

export interface QueueDepth {
  pending: number;
  failed: number;
  /** Enqueue time of the oldest pending event; null when none is pending. */
  oldestPending: number | null;
  /** How far the target is behind: now minus `oldestPending` (0 when none is pending). */
  lagMs: number;
}

/** The ordering key of a path: sha1 of `repo \0 path`. */
export function pathKey(repo: string, path: string): string {
  return createHash('sha1').update(`${repo}\0${path}`).digest('hex');
}

/** The payload column of a change; throws BAD_REQUEST for an unknown kind or an oversized payload. */
export function payloadOf(change: ReplicationChange): string {
  if (!EVENT_KINDS.includes(change.kind)) throw new ArcaError('BAD_REQUEST', `unknown replication event kind '${String(change.kind)}'`);
  if (change.kind === 'move' && !change.to) throw new ArcaError('BAD_REQUEST', 'a move event needs its destination (to)');
  // The column sizes of migration 0022.
  if (change.repo.length > 128 || change.path.length > 2048 || (change.origin?.length ?? 0) > 128 || (change.sha1?.length ?? 0) > 40) {
    throw new ArcaError('BAD_REQUEST', 'replication event field too long (repo 128, path 2048, origin 128, sha1 40 characters)');
  }
  const body: ClaimedEvent['payload'] = {};
  if (change.sha1) body.sha1 = change.sha1;
  if (change.sha256) body.sha256 = change.sha256;
  if (change.size !== undefined) body.size = change.size;
  if (change.props) body.props = change.props;
  if (change.to) body.to = change.to;
  const json = JSON.stringify(body);
  if (json.length > MAX_PAYLOAD_CHARS) throw new ArcaError('BAD_REQUEST', `replication event payload over ${MAX_PAYLOAD_CHARS} characters`);
  return json;
}

/**
 * Exponential back-off after `attempts` failed attempts: base·2^(attempts-1), capped, less a
 * random share of up to `jitter` of it (so retries of many events spread out, never above the cap).
 */
export function backoffMs(attempts: number, o: { baseMs: number; capMs: number; jitter: number; random: () => number }): number {
  const raw = Math.min(o.capMs, o.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 40)));
  return Math.max(0, Math.round(raw * (1 - o.jitter * o.random())));
}
