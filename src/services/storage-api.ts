import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { Db, ItemRow, PropertyMap } from '../db/items.js';
import { descendantPages } from '../db/tree.js';
import { deletePropertiesOn, markUpdated, setPropertiesOn } from '../db/search-queries.js';
import type { Access } from '../security/access.js';
import type { ListingRunner } from './listing/listing-runner.js';
import type { RepoConfig } from './repositories.js';
import { filterAllowed, locate, StorageItem } from './storage-item.js';
import { recordItems } from './replication/change-capture.js';
import type { VirtualResolver } from './serve/virtual-resolver.js';
import { VirtualStorage } from './virtual-storage.js';

export interface PropertyChangeOptions {
  /** The site the change came from when it arrived by replication (its events are not sent back there). */
  origin?: string;
}

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
    /** Runs the streamed listings (off the event loop on SQLite). */
    readonly listings: ListingRunner,
  ) {}

  private get db() {
    return this.database.db;
  }

  /** The storage API of virtual repositories (merged listings), resolving members with `resolver`. */
  virtualStorage(resolver: VirtualResolver): VirtualStorage {
    return new VirtualStorage(this.database, resolver);
  }

  /** `path` of `repo` for reading (item info, lists, properties, permissions), or the caller's refusal. */
  async open(access: Access, repo: RepoConfig, path: string): Promise<StorageItem> {
    if (path === '') {
      if (!(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}'`);
    } else await access.require('read', repo, path);
    return new StorageItem(this.db, this.listings, access, repo, path);
  }

  /**
   * Applies `change` to the items a property change is for: the item itself and, when
   * `recursive`, everything below it the caller may annotate, a page (at most 500 items) per
   * transaction, so a change to a big folder never holds the write lock for long. The root has
   * no row, so it needs `recursive`. Setting or deleting properties again is harmless, so an
   * interrupted change is finished by repeating it. Returns how many items changed.
   */
  private async apply(
    access: Access,
    repo: RepoConfig,
    path: string,
    recursive: boolean,
    origin: string | undefined,
    change: (trx: Db, ids: number[], now: number) => Promise<void>,
  ): Promise<number> {
    await access.require('annotate', repo, path);
    const at = await locate(this.db, repo, path);
    const isFolder = at.kind === 'root' || at.row.type === 'folder';
    if (!recursive && at.kind === 'root') {
      throw new ArcaError('BAD_REQUEST', 'The repository root cannot carry properties; use recursive=1 to apply them to its content');
    }
    const now = this.clock.now();
    let changed = 0;
    const write = async (rows: ItemRow[]) => {
      if (rows.length === 0) return;
      await this.db.transaction().execute(async (trx) => {
        await change(trx, rows.map((r) => r.id), now);
        // One props event per changed item, in the page's transaction (so bounded by the page).
        await recordItems(this.database, trx, repo.key, rows, 'props', origin);
      });
      changed += rows.length;
    };
    if (at.kind === 'item') await write([at.row]);
    if (recursive && isFolder) {
      for await (const page of descendantPages(this.db, repo.key, path)) await write(await filterAllowed(access, 'annotate', repo, page));
    }
    return changed;
  }

  /** Sets properties (each key's values replace the old ones); returns how many items changed. */
  async setProperties(access: Access, repo: RepoConfig, path: string, props: PropertyMap, recursive: boolean, options: PropertyChangeOptions = {}): Promise<number> {
    return this.apply(access, repo, path, recursive, options.origin, async (trx, ids, now) => {
      await setPropertiesOn(trx, ids, props);
      await markUpdated(trx, ids, now);
    });
  }

  /** Removes the properties `keys`; returns how many items changed. */
  async deleteProperties(access: Access, repo: RepoConfig, path: string, keys: string[], recursive: boolean, options: PropertyChangeOptions = {}): Promise<number> {
    return this.apply(access, repo, path, recursive, options.origin, async (trx, ids, now) => {
      await deletePropertiesOn(trx, ids, keys);
      await markUpdated(trx, ids, now);
    });
  }
}
