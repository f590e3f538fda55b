import type { Selectable } from 'kysely';
import type { ConfigVersions } from '../cluster/config-versions.js';
import { isoDate, type Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { Db } from '../db/items.js';
import type { UsersTable } from '../db/schema.js';
import { lockedUsers, unlockUsers } from './login-failures.js';
import { checkPassword, DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './password-policy.js';
import { hashPassword } from './passwords.js';
import { bool, checkBodyName, checkName, invalidField, optBoolean, optString, optStringArray, requireObject, type Body } from './validation.js';

export const ANONYMOUS_USER = 'anonymous';
const WHAT = 'user';
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The JFrog user JSON (the password is write-only and never returned). */
export interface UserJson {
  name: string;
  email?: string;
  admin: boolean;
  profileUpdatable: boolean;
  disableUIAccess: boolean;
  internalPasswordDisabled: boolean;
  lastLoggedIn?: string;
  realm: string;
  groups: string[];
}

interface UserInput {
  email?: string;
  password?: string;
  admin?: boolean;
  profileUpdatable?: boolean;
  disableUIAccess?: boolean;
  internalPasswordDisabled?: boolean;
  realm?: string;
  groups?: string[];
}

export type UserRow = Selectable<UsersTable>;

/** Called inside the transaction that deletes a user (the token service revokes its tokens). */
export type UserDeletedHook = (trx: Db, name: string) => Promise<void>;

function parseInput(body: unknown): UserInput {
  const b: Body = requireObject(body, WHAT);
  const email = optString(b, 'email', WHAT, 255);
  if (email !== undefined && email !== '' && !EMAIL.test(email)) throw invalidField(WHAT, 'email', 'must be an e-mail address');
  const password = optString(b, 'password', WHAT, 1024);
  if (password === '') throw invalidField(WHAT, 'password', 'must not be empty');
  const realm = optString(b, 'realm', WHAT, 32);
  if (realm === '') throw invalidField(WHAT, 'realm', 'must not be empty');
  return {
    email,
    password,
    admin: optBoolean(b, 'admin', WHAT),
    profileUpdatable: optBoolean(b, 'profileUpdatable', WHAT),
    disableUIAccess: optBoolean(b, 'disableUIAccess', WHAT),
    internalPasswordDisabled: optBoolean(b, 'internalPasswordDisabled', WHAT),
    realm,
    groups: optStringArray(b, 'groups', WHAT),
  };
}

function builtIn(name: string): never {
  throw new ArcaError('BAD_REQUEST', `The '${name}' user is built in and cannot be created, changed or deleted`);
}

/** Users in the database, with their group memberships. */
export class UserStore {
  onDeleted: UserDeletedHook | undefined;

  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    /** The rules a new password meets (system.yaml arca.password.*). */
    readonly passwordPolicy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
  ) {}

  async list(): Promise<{ name: string; realm: string }[]> {
    const rows = await this.database.db.selectFrom('users').select(['name', 'realm']).orderBy('name').execute();
    const out = rows.map((r) => ({ name: r.name, realm: r.realm }));
    if (!out.some((u) => u.name === ANONYMOUS_USER)) out.push({ name: ANONYMOUS_USER, realm: 'internal' });
    return out;
  }

  async row(name: string): Promise<UserRow | undefined> {
    return this.database.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async get(name: string): Promise<UserJson> {
    if (name === ANONYMOUS_USER) {
      return { name, admin: false, profileUpdatable: false, disableUIAccess: true, internalPasswordDisabled: true, realm: 'internal', groups: [] };
    }
    const row = await this.row(name);
    if (!row) throw new ArcaError('NOT_FOUND', `User '${name}' does not exist`);
    const groups = await this.database.db.selectFrom('user_groups').select('group_name').where('user_name', '=', name).orderBy('group_name').execute();
    const out: UserJson = {
      name: row.name,
      admin: row.admin === 1,
      profileUpdatable: row.profile_updatable === 1,
      disableUIAccess: row.disable_ui_access === 1,
      internalPasswordDisabled: row.internal_password_disabled === 1,
      realm: row.realm,
      groups: groups.map((g) => g.group_name),
    };
    if (row.email) out.email = row.email;
    if (row.last_logged_in !== null) out.lastLoggedIn = isoDate(Number(row.last_logged_in));
    return out;
  }

  /** PUT: creates the user, or replaces every field of an existing one (the password is kept when not given). */
  async put(name: string, body: unknown): Promise<{ created: boolean }> {
    checkName(name, WHAT);
    if (name === ANONYMOUS_USER) builtIn(name);
    checkBodyName(requireObject(body, WHAT), name, WHAT);
    const input = parseInput(body);
    if (input.password !== undefined) checkPassword(input.password, this.passwordPolicy);
    const hash = input.password === undefined ? undefined : await hashPassword(input.password);
    const now = this.clock.now();
    const created = await this.change(async (trx) => {
      const existing = await trx.selectFrom('users').select(['name', 'password_hash']).where('name', '=', name).executeTakeFirst();
      if (!existing && hash === undefined && input.internalPasswordDisabled !== true) {
        throw invalidField(WHAT, 'password', 'is required to create a user unless internalPasswordDisabled is true');
      }
      const values = {
        email: input.email || null,
        admin: bool(input.admin, false),
        profile_updatable: bool(input.profileUpdatable, true),
        disable_ui_access: bool(input.disableUIAccess, false),
        internal_password_disabled: bool(input.internalPasswordDisabled, false),
        realm: input.realm ?? 'internal',
        modified: now,
      };
      let groups = input.groups ?? [];
      if (existing) {
        await trx.updateTable('users').set(hash === undefined ? values : { ...values, password_hash: hash, failed_logins: 0, locked_until: null }).where('name', '=', name).execute();
      } else {
        const autoJoin = await trx.selectFrom('security_groups').select('name').where('auto_join', '=', 1).execute();
        groups = [...new Set([...groups, ...autoJoin.map((g) => g.name)])];
        await trx
          .insertInto('users')
          .values({ name, ...values, password_hash: hash ?? null, last_logged_in: null, failed_logins: 0, locked_until: null, api_key_enc: null, api_key_hash: null, created: now })
          .execute();
      }
      await this.setGroups(trx, name, groups);
      return !existing;
    });
    return { created };
  }

  /** POST: changes only the fields given. */
  async update(name: string, body: unknown): Promise<void> {
    if (name === ANONYMOUS_USER) builtIn(name);
    checkBodyName(requireObject(body, WHAT), name, WHAT);
    const input = parseInput(body);
    if (input.password !== undefined) checkPassword(input.password, this.passwordPolicy);
    const hash = input.password === undefined ? undefined : await hashPassword(input.password);
    const now = this.clock.now();
    await this.change(async (trx) => {
      const existing = await trx.selectFrom('users').select(['name', 'password_hash']).where('name', '=', name).executeTakeFirst();
      if (!existing) throw new ArcaError('NOT_FOUND', `User '${name}' does not exist`);
      if (input.internalPasswordDisabled === false && existing.password_hash === null && hash === undefined) {
        throw invalidField(WHAT, 'password', 'is required to enable the internal password');
      }
      const set: Partial<UsersTable> = { modified: now };
      if (input.email !== undefined) set.email = input.email || null;
      if (input.admin !== undefined) set.admin = bool(input.admin, false);
      if (input.profileUpdatable !== undefined) set.profile_updatable = bool(input.profileUpdatable, true);
      if (input.disableUIAccess !== undefined) set.disable_ui_access = bool(input.disableUIAccess, false);
      if (input.internalPasswordDisabled !== undefined) set.internal_password_disabled = bool(input.internalPasswordDisabled, false);
      if (input.realm !== undefined) set.realm = input.realm;
      if (hash !== undefined) Object.assign(set, { password_hash: hash, failed_logins: 0, locked_until: null });
      await trx.updateTable('users').set(set).where('name', '=', name).execute();
      if (input.groups !== undefined) await this.setGroups(trx, name, input.groups);
    });
  }

  async delete(name: string): Promise<void> {
    if (name === ANONYMOUS_USER) builtIn(name);
    await this.change(async (trx) => {
      await trx.deleteFrom('user_groups').where('user_name', '=', name).execute();
      const res = await trx.deleteFrom('users').where('name', '=', name).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw new ArcaError('NOT_FOUND', `User '${name}' does not exist`);
      await this.onDeleted?.(trx, name);
    });
  }

  /** The users locked out by failed logins now. */
  locked(): Promise<string[]> {
    return lockedUsers(this.database.db, this.clock.now());
  }

  /** Lifts the failed-login lock of `names` (every user when undefined); an unknown name is a 404. */
  async unlock(names?: string[]): Promise<number> {
    if (names) {
      const found = names.length === 0 ? [] : await this.database.db.selectFrom('users').select('name').where('name', 'in', names).execute();
      const missing = names.filter((n) => !found.some((f) => f.name === n));
      if (missing.length > 0) throw new ArcaError('NOT_FOUND', `User '${missing[0]}' does not exist`);
    }
    return unlockUsers(this.database.db, names);
  }

  private async setGroups(trx: Db, name: string, groups: string[]): Promise<void> {
    if (groups.length > 0) {
      const found = await trx.selectFrom('security_groups').select('name').where('name', 'in', groups).execute();
      const missing = groups.filter((g) => !found.some((f) => f.name === g));
      if (missing.length > 0) throw invalidField(WHAT, 'groups', `names groups that do not exist: ${missing.join(', ')}`);
    }
    await trx.deleteFrom('user_groups').where('user_name', '=', name).execute();
    if (groups.length > 0) await trx.insertInto('user_groups').values(groups.map((g) => ({ user_name: name, group_name: g }))).execute();
  }

  /**
   * Runs a change in one transaction that also refuses to leave the system without an
   * administrator (409), and bumps the 'security' version so every process drops its caches.
   */
  private async change<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    const lockable = this.database.dialect !== 'sqlite';
    return this.versions.change('security', async (trx) => {
      // Lock the admin rows (PostgreSQL) so two concurrent demotions cannot both pass the check.
      let admins = trx.selectFrom('users').select('name').where('admin', '=', 1);
      if (lockable) admins = admins.forUpdate();
      const before = (await admins.execute()).length;
      const out = await fn(trx);
      const after = await trx.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('admin', '=', 1).executeTakeFirstOrThrow();
      if (before > 0 && Number(after.n) === 0) {
        throw new ArcaError('CONFLICT', 'The last administrator cannot be deleted or lose admin rights');
      }
      return out;
    });
  }
}
