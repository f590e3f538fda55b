import type { ContentStore } from '../../content/content-store.js';
import { ArcaError } from '../../core/errors.js';
import { readBounded } from '../../core/read-bounded.js';
import { indexBuild, unindexBuild } from '../../db/builds.js';
import type { Database } from '../../db/database.js';
import { fullPathOf, getItem, type ItemRow } from '../../db/items.js';
import { descendantPages } from '../../db/tree.js';
import type { StoredFileListener } from '../format-deploy.js';
import { BUILD_INFO_MAX_BYTES, indexedEntries, parseBuildInfo, startedMs, type BuildDocument } from './build-info.js';

/** The package type of build-info repositories (the seed's `buildinfo`). */
export const BUILD_INFO_PACKAGE_TYPE = 'buildinfo';

/**
 * Keeps the build index (db/builds.ts) in step with the build items: every JSON file stored in
 * a repository of package type `buildinfo`, whichever way it came (`PUT /api/build`, a plain
 * deploy, a replication, a copy), is read and indexed; a file that is no valid build info is
 * left out of the index (it stays an ordinary item). Deletes are the trigger's (migration
 * 0019). `rebuild` derives the whole index of a repository from its items again (after an
 * import, which writes items without deploys).
 */
export class BuildIndex implements StoredFileListener {
  constructor(
    private readonly database: Database,
    private readonly content: ContentStore,
  ) {}

  /** The document of a build item, or undefined when it is none. */
  async read(repoKey: string, path: string, row?: ItemRow): Promise<BuildDocument | undefined> {
    const item = row ?? (await getItem(this.database.db, repoKey, path));
    if (item?.type !== 'file' || !item.sha1 || !path.endsWith('.json') || Number(item.size) > BUILD_INFO_MAX_BYTES) return undefined;
    try {
      const bytes =
        Number(item.size) <= this.content.smallFileLimit
          ? await this.content.readSmall(item.sha1)
          : await readBounded(await this.content.read(item.sha1), BUILD_INFO_MAX_BYTES, () => new ArcaError('PAYLOAD_TOO_LARGE'));
      return parseBuildInfo(bytes.toString('utf8'), 0);
    } catch {
      return undefined;
    }
  }

  async stored(repo: { key: string; packageType: string }, path: string, item: ItemRow): Promise<void> {
    if (repo.packageType !== BUILD_INFO_PACKAGE_TYPE) return;
    const id = Number(item.id);
    const doc = await this.read(repo.key, path, item);
    if (!doc) {
      await unindexBuild(this.database.db, id);
      return;
    }
    const statuses = Array.isArray(doc.statuses) ? doc.statuses : [];
    const last = statuses.length > 0 ? statuses[statuses.length - 1] : undefined;
    await indexBuild(
      this.database,
      {
        item_id: id,
        repo: repo.key,
        name: doc.name,
        number: doc.number,
        started: doc.started,
        started_ms: startedMs(doc.started),
        status: typeof last?.status === 'string' ? last.status.slice(0, 255) : null,
      },
      indexedEntries(doc),
    );
  }

  /** Indexes every file of a build-info repository again (page by page); returns how many files were read. */
  async rebuild(repoKey: string): Promise<number> {
    let count = 0;
    for await (const page of descendantPages(this.database.db, repoKey, '')) {
      for (const row of page) {
        if (row.type !== 'file') continue;
        await this.stored({ key: repoKey, packageType: BUILD_INFO_PACKAGE_TYPE }, fullPathOf(row), row);
        count++;
      }
    }
    return count;
  }

  /** Rebuilds the index of every build-info repository (after an import); returns the files read. */
  async rebuildAll(): Promise<number> {
    const repos = await this.database.db.selectFrom('repositories').select('repo_key').where('package_type', '=', BUILD_INFO_PACKAGE_TYPE).execute();
    let count = 0;
    for (const r of repos) count += await this.rebuild(r.repo_key);
    return count;
  }
}
