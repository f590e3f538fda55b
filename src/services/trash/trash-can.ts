import type { Transaction } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Schema } from '../../db/schema.js';
import { ArcaError } from '../../core/errors.js';
import { TRASH_REPO, TRASH_REPO_KEY, type RepoConfig } from '../../core/repo-config.js';
import type { Database } from '../../db/database.js';
import { retryConflicts } from '../../db/conflicts.js';
import { deleteTreeInBatches, getItem, type ItemRow } from '../../db/items.js';
import { expiredEntries, pruneEntries, RelocationConflict, relocateTree, type Relocation } from '../../db/trash.js';
import type { Access } from '../../security/access.js';
import type { RepositoryService } from '../repositories.js';
import type { SystemSettings } from '../system-settings.js';
import { recordDeletes, recordItems } from '../replication/change-capture.js';

/** The properties the seed sets on a trashed item (its TrashService names). */
export const TRASH_PROPS = {
  time: 'trash.time',
  deletedBy: 'trash.deletedBy',
  originalRepository: 'trash.originalRepository',
  originalRepositoryType: 'trash.originalRepositoryType',
  originalPath: 'trash.originalPath',
  restoredTime: 'trash.restoredTime',
} as const;

/** What a restore removes from each item: every trash property but the restore time it adds. */
const RESTORE_DROP = [TRASH_PROPS.time, TRASH_PROPS.deletedBy, TRASH_PROPS.originalRepository, TRASH_PROPS.originalRepositoryType, TRASH_PROPS.originalPath];

const DAY_MS = 86_400_000;
/** Entries pruned per transaction. */
const PRUNE_BATCH = 500;

export interface PruneOutcome {
  files: number;
  folders: number;
  entries: number;
  /** True when the run stopped at its limit with expired entries left for the next run. */
  more: boolean;
}

/**
 * The trash can (the seed's `auto-trashcan`): a delete in a local repository moves the items
 * there, at `{repo}/{path}`, as a metadata move (binaries stay referenced, so GC keeps them),
 * with the seed's `trash.*` properties; restore moves them back; clean, empty and the retention
 * prune delete them for good.
 */
export class TrashCan {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly settings: Pick<SystemSettings, 'get'>,
    private readonly repos: Pick<RepositoryService, 'get'>,
    /** Package types whose deletes are for good (the build-info repository: its index follows item deletes only). */
    private readonly untrashedTypes: string[] = [],
  ) {}

  /**
   * Told the files a restore put back, after it committed (the composition root sets it to the
   * deploy service's `arrived`, so formats re-index them).
   */
  restored?: (repo: RepoConfig, files: readonly ItemRow[], user: string) => Promise<void>;

  /**
   * Does a delete at this repository go to the trash (enabled, a local repository, not the
   * trash itself, not of a package type the composition root keeps out)?
   */
  async takes(repo: RepoConfig): Promise<boolean> {
    if (repo.rclass !== 'local' || repo.key === TRASH_REPO_KEY || this.untrashedTypes.includes(repo.packageType)) return false;
    return (await this.settings.get()).trashcanEnabled;
  }

  /**
   * Moves the item at `path` of `repo` ('' = everything in it) to the trash. A file already in
   * the trash at the same place is replaced (the trash keeps the last thing deleted), folders
   * merge. Returns how many items moved.
   */
  async trash(repo: RepoConfig, path: string, user: string, origin?: string): Promise<number> {
    const now = this.clock.now();
    const rel: Relocation = {
      fromRepo: repo.key,
      fromPath: path,
      toRepo: TRASH_REPO_KEY,
      toPath: path === '' ? repo.key : `${repo.key}/${path}`,
      user,
      now,
      props: (original) => ({
        [TRASH_PROPS.time]: [String(now)],
        [TRASH_PROPS.deletedBy]: [user],
        [TRASH_PROPS.originalRepository]: [repo.key],
        [TRASH_PROPS.originalRepositoryType]: [repo.packageType],
        [TRASH_PROPS.originalPath]: [original],
      }),
      drop: [TRASH_PROPS.restoredTime],
      replace: true,
      trashedAt: now,
    };
    const moved = await relocateTree(this.database.db, rel);
    // A delete into the trash is a delete for event replication, recorded once it is all there.
    if (moved > 0) await recordDeletes(this.database, repo.key, [path], origin);
    return moved;
  }

  /**
   * `POST /api/trash/restore/{path}?to={repo}/{path}`: moves `path` of the trash (which starts
   * with the original repository's key) to `to`, or back where it was. The seed allows this to
   * administrators; Arca also lets a user who may manage the original repository restore into
   * places where they may deploy (and overwrite only where they may delete).
   */
  async restore(access: Access, path: string, to: { repoKey: string; path: string } | undefined): Promise<number> {
    if (path === '') throw new ArcaError('BAD_REQUEST', 'Name what to restore: /api/trash/restore/{repo}/{path}');
    const [originalKey] = path.split('/');
    const target = { ...(to ?? { repoKey: originalKey, path: path.slice(originalKey.length + 1) }) };
    if (!access.admin) {
      const original = await this.repos.get(originalKey);
      if (!original || !(await access.can('manage', original, path.slice(originalKey.length + 1)))) await access.refuse(`restore '${TRASH_REPO_KEY}/${path}'`);
    }
    const repo = await this.repos.get(target.repoKey);
    if (!repo || repo.rclass !== 'local' || repo.key === TRASH_REPO_KEY) {
      throw new ArcaError('BAD_REQUEST', `Restore repo '${target.repoKey}' doesn't exist or is not a local repository`);
    }
    const source = await getItem(this.database.db, TRASH_REPO_KEY, path);
    if (!source) throw new ArcaError('ITEM_NOT_FOUND', `Could not find '${path}' in the trash can`);
    // A file restored onto a folder (or the repository root) goes inside it, keeping its name.
    if (source.type === 'file' && target.path !== '' && (await getItem(this.database.db, repo.key, target.path))?.type === 'folder') {
      target.path = `${target.path}/${source.name}`;
    }
    const now = this.clock.now();
    // The files that landed, by id (a batch retried after a deadlock tells them again).
    const arrived = new Map<string, ItemRow>();
    const rel: Relocation = {
      fromRepo: TRASH_REPO_KEY,
      fromPath: path,
      toRepo: repo.key,
      toPath: target.path,
      user: access.user,
      now,
      props: () => ({ [TRASH_PROPS.restoredTime]: [String(now)] }),
      drop: RESTORE_DROP,
      replace: false,
      dropEntries: true,
      // Restored files are deploys for event replication (as they stand now, in the batch's transaction).
      landed: (trx, rows) => {
        for (const r of rows) if (r.type === 'file') arrived.set(String(r.id), r);
        return recordItems(this.database, trx as Transaction<Schema>, repo.key, rows.filter((r) => r.type === 'file'), 'deploy').then(() => undefined);
      },
      check: access.admin
        ? undefined
        : async (toPath, row, existing) => {
            await access.require('write', repo, toPath);
            if (existing && row.type === 'file') await access.require('delete', repo, toPath);
          },
    };
    let moved: number;
    try {
      moved = await relocateTree(this.database.db, rel);
    } catch (err) {
      if (err instanceof RelocationConflict) throw new ArcaError('BAD_REQUEST', `Cannot restore '${path}': ${err.message}`);
      throw err;
    }
    if (arrived.size > 0) await this.restored?.(repo, [...arrived.values()], access.user);
    return moved;
  }

  /** `DELETE /api/trash/clean/{path}`: deletes that part of the trash for good. */
  async clean(path: string): Promise<number> {
    if (path === '') return this.empty();
    const removed = await deleteTreeInBatches(this.database.db, TRASH_REPO_KEY, path);
    if (removed === 0) throw new ArcaError('ITEM_NOT_FOUND', `Could not locate '${path}' in the trash can`);
    return removed;
  }

  /** `POST /api/trash/empty`: deletes everything in the trash for good. */
  async empty(): Promise<number> {
    return deleteTreeInBatches(this.database.db, TRASH_REPO_KEY, '');
  }

  prune(opts: PruneOptions): Promise<PruneOutcome> {
    return pruneTrash(this.database, this.clock, this.settings, opts);
  }
}

export interface PruneOptions {
  maxEntries: number;
  signal?: AbortSignal;
  /** Called in each transaction (the cluster task's fence). */
  fence?: (trx: Transaction<Schema>) => Promise<void>;
}

/**
 * Deletes what was trashed more than `retentionPeriodDays` ago, oldest first, at most
 * `maxEntries` entries per call (the rest waits for the next run), in batches each its own
 * transaction. Runs whether or not the trash can is on: what is in it still expires.
 */
export async function pruneTrash(database: Database, clock: Clock, settings: Pick<SystemSettings, 'get'>, opts: PruneOptions): Promise<PruneOutcome> {
  const cutoff = clock.now() - (await settings.get()).trashcanRetentionPeriodDays * DAY_MS;
  const out: PruneOutcome = { files: 0, folders: 0, entries: 0, more: false };
  while (out.entries < opts.maxEntries) {
    if (opts.signal?.aborted) break;
    const limit = Math.min(PRUNE_BATCH, opts.maxEntries - out.entries);
    // Retried on a deadlock with a delete moving items into the trash at the same time.
    const { n, done } = await retryConflicts(() =>
      database.db.transaction().execute(async (trx) => {
        await opts.fence?.(trx);
        const entries = await expiredEntries(trx, cutoff, limit);
        return { n: entries.length, done: await pruneEntries(trx, TRASH_REPO.key, entries, cutoff) };
      }),
    );
    out.files += done.files;
    out.folders += done.folders;
    out.entries += n;
    if (n < limit) return out;
  }
  out.more = (await expiredEntries(database.db, cutoff, 1)).length > 0;
  return out;
}
