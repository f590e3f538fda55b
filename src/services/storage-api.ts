import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { listDescendants, type ItemRow, type PropertyMap } from '../db/items.js';
import { deletePropertiesOn, markUpdated, setPropertiesOn } from '../db/search-queries.js';
import type { Access } from '../security/access.js';
import type { RepoConfig } from './repositories.js';
import { filterAllowed, locate, StorageItem } from './storage-item.js';

/**
 * The `/api/storage` use cases (REST-API.md §2). Each decides with the caller's `Access`:
 * reading needs read access to the path (for the repository root, to something in the
 * repository); a property change needs annotate access to the path and, when recursive,
 * applies only to what below it the caller may annotate.
 */
export class StorageApiService {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  private get db() {
    return this.database.db;
  }

  /** `path` of `repo` for reading (item info, lists, properties, permissions), or the caller's refusal. */
  async open(access: Access, repo: RepoConfig, path: string): Promise<StorageItem> {
    if (path === '') {
      if (!(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}'`);
    } else await access.require('read', repo, path);
    return new StorageItem(this.db, access, repo, path);
  }

  /**
   * The items a property change applies to: the item itself and, when `recursive`, everything
   * below it the caller may annotate. The root has no row, so it needs `recursive`.
   */
  private async targets(access: Access, repo: RepoConfig, path: string, recursive: boolean): Promise<ItemRow[]> {
    await access.require('annotate', repo, path);
    const at = await locate(this.db, repo, path);
    const rows: ItemRow[] = at.kind === 'item' ? [at.row] : [];
    const isFolder = at.kind === 'root' || at.row.type === 'folder';
    if (!recursive && at.kind === 'root') {
      throw new ArcaError('BAD_REQUEST', 'The repository root cannot carry properties; use recursive=1 to apply them to its content');
    }
    if (recursive && isFolder) rows.push(...(await filterAllowed(access, 'annotate', repo, await listDescendants(this.db, repo.key, path))));
    return rows;
  }

  /** Sets properties (each key's values replace the old ones); returns how many items changed. */
  async setProperties(access: Access, repo: RepoConfig, path: string, props: PropertyMap, recursive: boolean): Promise<number> {
    const rows = await this.targets(access, repo, path, recursive);
    const ids = rows.map((r) => r.id);
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await setPropertiesOn(trx, ids, props);
      await markUpdated(trx, ids, now);
    });
    return ids.length;
  }

  /** Removes the properties `keys`; returns how many items changed. */
  async deleteProperties(access: Access, repo: RepoConfig, path: string, keys: string[], recursive: boolean): Promise<number> {
    const rows = await this.targets(access, repo, path, recursive);
    const ids = rows.map((r) => r.id);
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await deletePropertiesOn(trx, ids, keys);
      await markUpdated(trx, ids, now);
    });
    return ids.length;
  }
}
