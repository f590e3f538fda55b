import type { Generated } from 'kysely';

/** One replication event per change and push target (migration 0022, docs/replication-events.md). */
export interface ReplicationEventsTable {
  id: Generated<number>;
  target: string;
  repo: string;
  path: string;
  /** sha1 of `repo \0 path`: the per-path ordering key. */
  path_key: string;
  kind: string;
  /** JSON, at most 4 KiB. */
  payload: string;
  sha1: string | null;
  /** 1 while the row counts as a reference to `sha1` in `binary_ref_log` (pending deploys and moves). */
  holds_ref: Generated<number>;
  /** The site the change first came from (loop detection); null for a local change. */
  origin: string | null;
  created: number;
  /** 0 pending, 1 delivered, 2 failed. */
  state: Generated<number>;
  attempts: Generated<number>;
  next_at: number;
  lease_owner: string | null;
  lease_token: string | null;
  done_at: number | null;
  last_error: string | null;
}
