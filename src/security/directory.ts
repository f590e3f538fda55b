import { LruCache } from '../core/lru-cache.js';
import type { Database } from '../db/database.js';
import type { Principal } from './types.js';

export interface GroupFacts {
  adminPrivileges: boolean;
  autoJoin: boolean;
}

export interface UserFacts {
  name: string;
  admin: boolean;
  groups: string[];
}

/**
 * Per-process cache of the user and group facts that principals are built from (admin flag,
 * group memberships, groups with admin privileges). Dropped on every 'security' version
 * change; a generation counter keeps a load that raced with a change from being stored.
 */
export class Directory {
  private readonly users = new LruCache<UserFacts | null>(20_000);
  private groups: Map<string, GroupFacts> | undefined;
  private generation = 0;

  constructor(private readonly database: Database) {}

  invalidate(): void {
    this.generation++;
    this.users.clear();
    this.groups = undefined;
  }

  async allGroups(): Promise<Map<string, GroupFacts>> {
    if (this.groups) return this.groups;
    const gen = this.generation;
    const rows = await this.database.db.selectFrom('security_groups').select(['name', 'admin_privileges', 'auto_join']).execute();
    const map = new Map(rows.map((r) => [r.name, { adminPrivileges: r.admin_privileges === 1, autoJoin: r.auto_join === 1 }]));
    if (gen === this.generation) this.groups = map;
    return map;
  }

  /** The user's facts, or undefined when no such user exists. */
  async user(name: string): Promise<UserFacts | undefined> {
    const hit = this.users.get(name);
    if (hit !== undefined) return hit ?? undefined;
    const gen = this.generation;
    const db = this.database.db;
    const row = await db.selectFrom('users').select(['name', 'admin']).where('name', '=', name).executeTakeFirst();
    let facts: UserFacts | null = null;
    if (row) {
      const groups = await db.selectFrom('user_groups').select('group_name').where('user_name', '=', name).orderBy('group_name').execute();
      facts = { name: row.name, admin: row.admin === 1, groups: groups.map((g) => g.group_name) };
    }
    if (gen === this.generation) this.users.set(name, facts);
    return facts ?? undefined;
  }

  /** True when any of the groups carries admin privileges. */
  async anyAdminGroup(groups: string[]): Promise<boolean> {
    if (groups.length === 0) return false;
    const all = await this.allGroups();
    return groups.some((g) => all.get(g)?.adminPrivileges === true);
  }

  /** The principal of an existing user acting with all of their groups. */
  async principalOf(user: UserFacts, via: Principal['via'], tokenId?: string): Promise<Principal> {
    const admin = user.admin || (await this.anyAdminGroup(user.groups));
    const p: Principal = { name: user.name, admin, groups: user.groups, anonymous: false, via };
    if (tokenId) p.tokenId = tokenId;
    return p;
  }
}
