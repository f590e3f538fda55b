import type { ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { Db } from '../db/items.js';
import type { GroupsTable } from '../db/schema.js';
import { bool, checkBodyName, checkName, invalidField, optBoolean, optString, optStringArray, requireObject } from './validation.js';

const WHAT = 'group';

/** The JFrog group JSON; `userNames` only with `?includeUsers=true`. */
export interface GroupJson {
  name: string;
  description?: string;
  autoJoin: boolean;
  adminPrivileges: boolean;
  realm: string;
  userNames?: string[];
}

interface GroupInput {
  description?: string;
  autoJoin?: boolean;
  adminPrivileges?: boolean;
  realm?: string;
  userNames?: string[];
}

function parseInput(body: unknown, name: string): GroupInput {
  const b = requireObject(body, WHAT);
  checkBodyName(b, name, WHAT);
  const realm = optString(b, 'realm', WHAT, 32);
  if (realm === '') throw invalidField(WHAT, 'realm', 'must not be empty');
  optString(b, 'realmAttributes', WHAT, 4096);
  return {
    description: optString(b, 'description', WHAT, 1024),
    autoJoin: optBoolean(b, 'autoJoin', WHAT),
    adminPrivileges: optBoolean(b, 'adminPrivileges', WHAT),
    realm,
    userNames: optStringArray(b, 'userNames', WHAT),
  };
}

/** New users join auto-join groups, so such a group must never make its members administrators. */
function checkFlags(autoJoin: number, adminPrivileges: number): void {
  if (autoJoin === 1 && adminPrivileges === 1) throw invalidField(WHAT, 'autoJoin', 'cannot be true for a group with admin privileges');
}

/** Security groups in the database, with their members. */
export class GroupStore {
  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
  ) {}

  async names(): Promise<string[]> {
    const rows = await this.database.db.selectFrom('security_groups').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async get(name: string, includeUsers: boolean): Promise<GroupJson> {
    const db = this.database.db;
    const row = await db.selectFrom('security_groups').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw new ArcaError('NOT_FOUND', `Group '${name}' does not exist`);
    const out: GroupJson = { name: row.name, autoJoin: row.auto_join === 1, adminPrivileges: row.admin_privileges === 1, realm: row.realm };
    if (row.description) out.description = row.description;
    if (includeUsers) {
      const members = await db.selectFrom('user_groups').select('user_name').where('group_name', '=', name).orderBy('user_name').execute();
      out.userNames = members.map((m) => m.user_name);
    }
    return out;
  }

  /** PUT: creates the group or replaces every field of an existing one. */
  async put(name: string, body: unknown): Promise<{ created: boolean }> {
    checkName(name, WHAT);
    const input = parseInput(body, name);
    const now = this.clock.now();
    const values = {
      description: input.description || null,
      auto_join: bool(input.autoJoin, false),
      admin_privileges: bool(input.adminPrivileges, false),
      realm: input.realm ?? 'internal',
      modified: now,
    };
    checkFlags(values.auto_join, values.admin_privileges);
    return this.versions.change('security', async (trx) => {
      const existing = await trx.selectFrom('security_groups').select('name').where('name', '=', name).executeTakeFirst();
      if (existing) await trx.updateTable('security_groups').set(values).where('name', '=', name).execute();
      else await trx.insertInto('security_groups').values({ name, ...values, created: now }).execute();
      if (input.userNames !== undefined) await this.setMembers(trx, name, input.userNames);
      return { created: !existing };
    });
  }

  /** POST: changes only the fields given. */
  async update(name: string, body: unknown): Promise<void> {
    const input = parseInput(body, name);
    await this.versions.change('security', async (trx) => {
      const row = await trx.selectFrom('security_groups').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) throw new ArcaError('NOT_FOUND', `Group '${name}' does not exist`);
      const set: Partial<GroupsTable> = { modified: this.clock.now() };
      if (input.description !== undefined) set.description = input.description || null;
      if (input.autoJoin !== undefined) set.auto_join = bool(input.autoJoin, false);
      if (input.adminPrivileges !== undefined) set.admin_privileges = bool(input.adminPrivileges, false);
      if (input.realm !== undefined) set.realm = input.realm;
      checkFlags(set.auto_join ?? row.auto_join, set.admin_privileges ?? row.admin_privileges);
      await trx.updateTable('security_groups').set(set).where('name', '=', name).execute();
      if (input.userNames !== undefined) await this.setMembers(trx, name, input.userNames);
    });
  }

  async delete(name: string): Promise<void> {
    await this.versions.change('security', async (trx) => {
      await trx.deleteFrom('user_groups').where('group_name', '=', name).execute();
      const res = await trx.deleteFrom('security_groups').where('name', '=', name).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw new ArcaError('NOT_FOUND', `Group '${name}' does not exist`);
    });
  }

  private async setMembers(trx: Db, name: string, users: string[]): Promise<void> {
    if (users.length > 0) {
      const found = await trx.selectFrom('users').select('name').where('name', 'in', users).execute();
      const missing = users.filter((u) => !found.some((f) => f.name === u));
      if (missing.length > 0) throw invalidField(WHAT, 'userNames', `names users that do not exist: ${missing.join(', ')}`);
    }
    await trx.deleteFrom('user_groups').where('group_name', '=', name).execute();
    if (users.length > 0) await trx.insertInto('user_groups').values(users.map((u) => ({ user_name: u, group_name: name }))).execute();
  }
}
