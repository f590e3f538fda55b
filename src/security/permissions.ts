import { bumpVersion, type ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { fromStored, type PermissionTarget } from './permission-model.js';
import { orIgnore } from '../db/dialect.js';

/** Permission targets in the database, always as the canonical (v2) JSON. */
export class PermissionStore {
  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
  ) {}

  async names(): Promise<string[]> {
    const rows = await this.database.db.selectFrom('permission_targets').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async all(): Promise<PermissionTarget[]> {
    const rows = await this.database.db.selectFrom('permission_targets').select(['name', 'config']).execute();
    return rows.map((r) => fromStored(r.name, r.config));
  }

  async get(name: string): Promise<PermissionTarget | undefined> {
    const row = await this.database.db.selectFrom('permission_targets').select(['name', 'config']).where('name', '=', name).executeTakeFirst();
    return row ? fromStored(row.name, row.config) : undefined;
  }

  async require(name: string): Promise<PermissionTarget> {
    const t = await this.get(name);
    if (!t) throw new ArcaError('NOT_FOUND', `Permission target '${name}' does not exist`);
    return t;
  }

  /**
   * Stores a target. `mode` 'create' refuses an existing name (409); 'upsert' creates or
   * replaces. `merge` may combine the new target with the stored one (v1 keeps the sections it
   * cannot express). Returns whether the target was created.
   */
  async save(
    target: PermissionTarget,
    mode: 'create' | 'upsert',
    merge?: (incoming: PermissionTarget, existing: PermissionTarget) => PermissionTarget,
  ): Promise<{ created: boolean }> {
    const now = this.clock.now();
    const created = await this.database.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('permission_targets').select(['name', 'config']).where('name', '=', target.name).executeTakeFirst();
      if (row && mode === 'create') throw new ArcaError('ALREADY_EXISTS', `Permission target '${target.name}' already exists`);
      if (row) {
        const value = merge ? merge(target, fromStored(row.name, row.config)) : target;
        await trx.updateTable('permission_targets').set({ config: JSON.stringify(value), modified: now }).where('name', '=', target.name).execute();
      } else {
        const inserted = await orIgnore(
          trx,
          trx.insertInto('permission_targets').values({ name: target.name, config: JSON.stringify(target), created: now, modified: now }),
          'name',
        )
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
          throw new ArcaError('ALREADY_EXISTS', `Permission target '${target.name}' already exists`);
        }
      }
      await bumpVersion(trx, 'security');
      return !row;
    });
    this.versions.changedLocally('security');
    return { created };
  }

  async delete(name: string): Promise<void> {
    await this.database.db.transaction().execute(async (trx) => {
      const res = await trx.deleteFrom('permission_targets').where('name', '=', name).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw new ArcaError('NOT_FOUND', `Permission target '${name}' does not exist`);
      await bumpVersion(trx, 'security');
    });
    this.versions.changedLocally('security');
  }
}
