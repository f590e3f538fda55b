/** One UI login session as a store keeps it: keyed by the hash of the cookie value, never the value. */
export interface SessionRecord {
  idHash: string;
  user: string;
  /** The node that created it (for operators; any node may serve it in db and distributed modes). */
  node: string;
  created: number;
  lastAccess: number;
  /** lastAccess + the idle timeout: the session is dead from this instant on. */
  expires: number;
}

/**
 * Where sessions live: the database (`db`), Redis (`distributed`) or this process (`jvm`).
 * Every method may throw when the backing service is unreachable.
 */
export interface SessionStore {
  readonly kind: 'db' | 'distributed' | 'jvm';
  create(record: SessionRecord): Promise<void>;
  get(idHash: string): Promise<SessionRecord | undefined>;
  /** Slides the idle timeout; does nothing when the session is gone (never resurrects one). */
  touch(idHash: string, lastAccess: number, expires: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Removes sessions expired at `now`; returns how many. */
  cleanup(now: number): Promise<number>;
  close(): Promise<void>;
}
