import type { Database } from '../db/database.js';
import type { SessionRecord, SessionStore } from './session-store.js';

/**
 * Sessions in the shared database (`artifactory.map.provider.type=db`, the default): a login
 * through one node is valid on every node, and logout anywhere ends it everywhere at once
 * (each request reads its session row; nothing is cached).
 */
export class DbSessionStore implements SessionStore {
  readonly kind = 'db' as const;

  constructor(private readonly database: Database) {}

  async create(r: SessionRecord): Promise<void> {
    await this.database.db
      .insertInto('ui_sessions')
      .values({ id_hash: r.idHash, user_name: r.user, node_id: r.node, created: r.created, last_access: r.lastAccess, expires: r.expires })
      .execute();
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const row = await this.database.db.selectFrom('ui_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      idHash: row.id_hash,
      user: row.user_name,
      node: row.node_id,
      created: Number(row.created),
      lastAccess: Number(row.last_access),
      expires: Number(row.expires),
    };
  }

  async touch(idHash: string, lastAccess: number, expires: number): Promise<void> {
    await this.database.db.updateTable('ui_sessions').set({ last_access: lastAccess, expires }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.database.db.deleteFrom('ui_sessions').where('id_hash', '=', idHash).execute();
  }

  async cleanup(now: number): Promise<number> {
    return cleanupExpiredDbSessions(this.database, now);
  }

  async close(): Promise<void> {}
}

/**
 * Deletes the db sessions that expired at `now`: the work of the session-cleanup task (the
 * seed's `artifactory.db.session.cleanup.cron`). Idempotent, so any node may run it.
 */
export async function cleanupExpiredDbSessions(database: Database, now: number): Promise<number> {
  const r = await database.db.deleteFrom('ui_sessions').where('expires', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
