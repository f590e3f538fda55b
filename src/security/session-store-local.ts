import type { SessionRecord, SessionStore } from './session-store.js';

/**
 * Sessions in this process only (`artifactory.map.provider.type=jvm`): a login is known to
 * the one process that made it, so a cluster (or a node with several workers) needs sticky
 * sessions on the load balancer, and a restart logs everyone out.
 */
export class LocalSessionStore implements SessionStore {
  readonly kind = 'jvm' as const;
  private readonly sessions = new Map<string, SessionRecord>();

  async create(r: SessionRecord): Promise<void> {
    this.sessions.set(r.idHash, { ...r });
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const r = this.sessions.get(idHash);
    return r && { ...r };
  }

  async touch(idHash: string, lastAccess: number, expires: number): Promise<void> {
    const r = this.sessions.get(idHash);
    if (r) Object.assign(r, { lastAccess, expires });
  }

  async delete(idHash: string): Promise<void> {
    this.sessions.delete(idHash);
  }

  async cleanup(now: number): Promise<number> {
    let n = 0;
    for (const [k, r] of this.sessions) if (r.expires <= now && this.sessions.delete(k)) n++;
    return n;
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
