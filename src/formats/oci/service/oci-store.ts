import type { Transaction } from 'kysely';
import type { StagedBinary } from '../../../binstore/binary-provider.js';
import type { ContentStore } from '../../../content/content-store.js';
import type { Clock } from '../../../core/clock.js';
import { ArcaError } from '../../../core/errors.js';
import { lockBinary } from '../../../db/binaries.js';
import { retryConflicts } from '../../../db/conflicts.js';
import type { Database } from '../../../db/database.js';
import {
  deleteTree,
  ensureFolders,
  findItem,
  FolderConflict,
  getItem,
  listChildren,
  putFile,
  setProperties,
  type Db,
  type ItemRow,
  type PropertyMap,
} from '../../../db/items.js';
import type { Schema } from '../../../db/schema.js';
import { recordDeletes, recordItems } from '../../../services/replication/change-capture.js';
import { isUploadSessionPath } from '../layout.js';

/** A binary of the content store, as an item references it. */
export interface BinaryRef {
  sha1: string;
  sha256: string;
  md5: string;
  size: number;
}

export function binaryOf(row: ItemRow): BinaryRef {
  return { sha1: row.sha1!, sha256: row.sha256 ?? '', md5: row.md5 ?? '', size: Number(row.size) };
}

export interface FileWrite {
  repo: string;
  path: string;
  binary: BinaryRef;
  mimeType: string;
  user: string;
  properties?: PropertyMap;
}

/**
 * The item-tree operations the registry services share: lookups, and writes that reference
 * binaries of the content store inside one transaction (so a manifest, its tag folder and
 * its layer items appear together, and garbage collection cannot take a binary between the
 * check and the commit).
 */
export class OciStore {
  constructor(
    readonly database: Database,
    readonly content: ContentStore,
    readonly clock: Clock,
  ) {}

  /** A file at a path (the prepared-statement lookup of the hot path). */
  async file(repo: string, path: string): Promise<ItemRow | undefined> {
    const row = await findItem(this.database, repo, path);
    return row?.type === 'file' ? row : undefined;
  }

  async folder(repo: string, path: string): Promise<ItemRow | undefined> {
    const row = await findItem(this.database, repo, path);
    return row?.type === 'folder' ? row : undefined;
  }

  children(repo: string, folder: string, db: Db = this.database.db): Promise<ItemRow[]> {
    return listChildren(db, repo, folder);
  }

  /** Files named `name` anywhere in a repository (the items_name index). */
  filesNamed(repo: string, name: string, limit = 1000): Promise<ItemRow[]> {
    return this.database.db.selectFrom('items').selectAll().where('repo', '=', repo).where('name', '=', name).where('type', '=', 'file').limit(limit).execute();
  }

  /** Files of a repository with a given sha256 and one of `names` (the items_sha256 index). */
  filesWithSha256(db: Db, repo: string, sha256: string, names: readonly string[]): Promise<ItemRow[]> {
    return db.selectFrom('items').selectAll().where('repo', '=', repo).where('sha256', '=', sha256).where('name', 'in', [...names]).execute();
  }

  /** The whole content of a stored file (manifests: small, served from the content cache). */
  async bytes(row: ItemRow): Promise<Buffer> {
    if (Number(row.size) <= this.content.smallFileLimit) return this.content.readSmall(row.sha1!);
    const parts: Buffer[] = [];
    for await (const chunk of await this.content.read(row.sha1!)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /**
   * Runs `work` in one transaction in which every binary of `binaries` is locked and known to
   * be in the store; `staged` (optional) is committed into the store first.
   */
  async transaction<T>(binaries: BinaryRef[], work: (trx: Transaction<Schema>) => Promise<T>, staged?: StagedBinary): Promise<T> {
    // Rows locked in one order (by sha1) by every transaction, so two pushes sharing layers
    // never wait for each other crosswise.
    const ordered = [...binaries].sort((a, b) => (a.sha1 < b.sha1 ? -1 : a.sha1 > b.sha1 ? 1 : 0));
    const run = async (trx: Transaction<Schema>) => {
      const now = this.clock.now();
      const seen = new Set<string>(staged ? [staged.sha1] : []);
      for (const b of ordered) {
        if (seen.has(b.sha1)) continue;
        seen.add(b.sha1);
        await lockBinary(trx, b, now);
        if (!(await this.content.provider.exists(b.sha1))) {
          throw new ArcaError('ITEM_NOT_FOUND', `The binary of sha256 ${b.sha256} is no longer in the store`);
        }
      }
      return work(trx);
    };
    const wrapped = (p: Promise<T>) =>
      p.catch((err) => {
        if (err instanceof FolderConflict) throw new ArcaError('CONFLICT', err.message);
        throw err;
      });
    if (staged) return wrapped(this.content.commit(staged, run, ordered));
    // \`work\` does database work only: a lock conflict anywhere runs the transaction again.
    return wrapped(retryConflicts(() => this.database.db.transaction().execute(run)));
  }

  /** Writes (or replaces) a file item that references a binary, creating its folders. */
  async putFile(trx: Db, f: FileWrite): Promise<ItemRow> {
    const now = this.clock.now();
    await ensureFolders(trx, f.repo, f.path, f.user, now);
    const { row } = await putFile(trx, { repo: f.repo, fullPath: f.path, binary: f.binary, original: {}, mimeType: f.mimeType, user: f.user, now });
    if (f.properties) await setProperties(trx, row.id, f.properties);
    // Manifests, tags, blob links and referrers replicate; upload session parts do not.
    if (!isUploadSessionPath(f.path)) await recordItems(this.database, trx as Transaction<Schema>, f.repo, [row], 'deploy');
    return row;
  }

  async ensureFolder(trx: Db, repo: string, path: string, user: string): Promise<void> {
    await ensureFolders(trx, repo, path, user, this.clock.now(), true);
  }

  /** Deletes a file or a folder with everything below it; the number of items removed. */
  async remove(trx: Db, repo: string, path: string): Promise<number> {
    const n = (await deleteTree(trx, repo, path)).length;
    if (n > 0 && !isUploadSessionPath(path)) await recordDeletes(this.database, repo, [path], null, trx as Transaction<Schema>);
    return n;
  }

  getItem(trx: Db, repo: string, path: string): Promise<ItemRow | undefined> {
    return getItem(trx, repo, path);
  }
}
