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

/** Replication targets (issue 16): one row per push target of a local repository, or the pull of a remote. */
export interface ReplicationsTable {
  repo_key: string;
  /** 0, 1, … in the order the targets were given. */
  position: number;
  /** 'push' or 'pull'. */
  kind: string;
  /** The push target's URL; '' for a pull. */
  url: string;
  /** The configuration JSON (seed field names; the password encrypted with the master key). */
  config: string;
  /** When `POST /api/replication/execute` last asked for a run (ms), null when never. */
  requested_at: number | null;
  /** The last run's record (JSON: status, lastCompleted, message), null when never run. */
  last_run: string | null;
  created: number;
  modified: number;
}
