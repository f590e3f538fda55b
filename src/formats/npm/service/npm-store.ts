/**
 * Storage of npm packages in a local repository: tarballs at `{name}/-/{name}-{version}.tgz`
 * and one package document per package at `.npm/{name}/package.json` (see names.ts).
 *
 * Why this talks to the content store and the database itself rather than through the
 * handler's RepoStore: a package document is read, changed and written back by concurrent
 * publishes, dist-tag changes and unpublishes, possibly on different nodes. Every change is a
 * compare-and-swap: the new document is committed only if the stored one is still the one
 * the change was computed from (its row is locked and its sha1 compared inside the commit's
 * transaction), otherwise the change is recomputed on the new document. RepoStore offers
 * plain writes only, which would lose concurrent changes.
 *
 * A publish writes the tarball first and the document second; the document's commit checks
 * that the tarball is still the one this publish wrote, so two racing publishes of the same
 * version end with one winner and a consistent tarball. A tarball no document references
 * (left by a crash between the two steps) is overwritten by the next publish of its version.
 */
import { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { StagedBinary } from '../../../binstore/binary-provider.js';
import type { ContentStore } from '../../../content/content-store.js';
import { LruCache } from '../../../core/lru-cache.js';
import type { Clock } from '../../../core/clock.js';
import { ArcaError } from '../../../core/errors.js';
import type { Database } from '../../../db/database.js';
import { dialectOf } from '../../../db/dialect.js';
import { deleteTree, ensureFolders, findItem, FolderConflict, pathKey, putFile, setProperties, type ItemRow } from '../../../db/items.js';
import type { Schema } from '../../../db/schema.js';
import { applyPublish, type DocumentUpdate } from '../document.js';
import { documentPath, METADATA_FOLDER, tarballPath } from '../names.js';
import type { PackageDocument } from '../packument.js';
import type { PublishRequest } from '../publish.js';
import { fillRow, NpmSearchIndex } from './npm-search-index.js';
import { recordDeletes, recordItems } from '../../../services/replication/change-capture.js';

export interface StoredDocument {
  doc: PackageDocument;
  item: ItemRow;
  sha1: string;
}

/** The repository a store operation works on (a RepoConfig fits). */
export interface NpmRepo {
  key: string;
}

class StaleDocument extends Error {}

/**
 * Errors after which the whole transaction is simply tried again: deadlocks and
 * serialisation failures (PostgreSQL 40P01/40001, MySQL 1213/1205), and unique-key
 * violations of two concurrent first inserts of one path (23505, 1062, SQLite's constraint).
 */
function transient(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  return (
    e?.code === '40P01' || e?.code === '40001' || e?.code === '23505' || e?.errno === 1213 || e?.errno === 1205 || e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));

const MAX_ATTEMPTS = 30;
const JSON_TYPE = 'application/json';

export class NpmStore {
  /** Parsed documents by content sha1 (documents are immutable per sha1). */
  private readonly parsed = new LruCache<{ doc: PackageDocument; bytes: number }>(64 * 1024 * 1024, (e) => e.bytes);

  /** The search rows of the package documents (see npm-search-index.ts). */
  readonly searchIndex: NpmSearchIndex;

  constructor(
    private readonly database: Database,
    private readonly content: ContentStore,
    private readonly clock: Clock,
  ) {
    this.searchIndex = new NpmSearchIndex(database, (item) => this.parse(item));
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Reads and parses a stored JSON document by its binary, cached by sha1. */
  async parse(item: ItemRow): Promise<PackageDocument> {
    const sha1 = item.sha1!;
    const hit = this.parsed.get(sha1);
    if (hit) return hit.doc;
    const data = item.size <= this.content.smallFileLimit ? await this.content.readSmall(sha1) : await readAll(await this.content.read(sha1));
    let doc: PackageDocument;
    try {
      doc = JSON.parse(data.toString('utf8')) as PackageDocument;
    } catch {
      throw new ArcaError('INTERNAL', `The stored npm document ${item.repo}/${item.path}/${item.name} is not valid JSON`);
    }
    this.parsed.set(sha1, { doc, bytes: data.length * 2 });
    return doc;
  }

  /** The document item of a package (one indexed lookup), without reading it. */
  async documentItem(repo: string, name: string): Promise<ItemRow | undefined> {
    const item = await findItem(this.database, repo, documentPath(name));
    return item?.type === 'file' && item.sha1 ? item : undefined;
  }

  async document(repo: string, name: string): Promise<StoredDocument | undefined> {
    const item = await this.documentItem(repo, name);
    if (!item) return undefined;
    return { doc: await this.parse(item), item, sha1: item.sha1! };
  }

  async tarball(repo: string, name: string, version: string): Promise<ItemRow | undefined> {
    const item = await findItem(this.database, repo, tarballPath(name, version));
    return item?.type === 'file' ? item : undefined;
  }

  /**
   * An item row read with a lock held until the transaction ends (a locking read also sees
   * the latest committed row under MySQL's repeatable read). SQLite write transactions are
   * exclusive already.
   */
  private async locked(trx: Transaction<Schema>, repo: string, path: string): Promise<ItemRow | undefined> {
    let q = trx.selectFrom('items').selectAll().where('path_key', '=', pathKey(repo, path));
    if (dialectOf(trx) !== 'sqlite') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /**
   * Changes a package document by compare-and-swap. `change` gets the current document
   * (undefined when the package does not exist) and returns the new one and the versions it
   * removed (their tarballs are deleted in the same transaction); it is called again when
   * another change won the race. `guard` runs inside the transaction before the write.
   */
  async update(
    repo: NpmRepo,
    name: string,
    user: string,
    change: (doc: PackageDocument | undefined) => DocumentUpdate,
    guard?: (trx: Transaction<Schema>) => Promise<void>,
  ): Promise<PackageDocument> {
    const path = documentPath(name);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.document(repo.key, name);
      const { doc, removed } = change(current?.doc);
      const staged = await this.content.stage(Readable.from([Buffer.from(JSON.stringify(doc))]));
      const now = this.clock.now();
      try {
        return await this.content.commit(staged, async (trx) => {
          const row = await this.locked(trx, repo.key, path);
          if ((row?.sha1 ?? undefined) !== current?.sha1) throw new StaleDocument();
          await guard?.(trx);
          await ensureFolders(trx, repo.key, path, user, now);
          const { row: written, replaced } = await putFile(trx, { repo: repo.key, fullPath: path, binary: staged, original: {}, mimeType: JSON_TYPE, user, now });
          // With no row to lock (a first publish), a concurrent first insert may commit in between.
          if ((replaced?.sha1 ?? undefined) !== current?.sha1) throw new StaleDocument();
          await recordItems(this.database, trx, repo.key, [written], 'deploy');
          for (const v of removed) {
            if ((await deleteTree(trx, repo.key, tarballPath(name, v))).length > 0) await recordDeletes(this.database, repo.key, [tarballPath(name, v)], null, trx);
          }
          // The search row of the document, in the same transaction (the triggers emptied it).
          await fillRow(trx, written.id, doc, staged.sha1);
          return doc;
        });
      } catch (err) {
        if (err instanceof FolderConflict) throw new ArcaError('CONFLICT', err.message);
        if (!(err instanceof StaleDocument) && !transient(err)) throw err;
        await backoff(attempt);
      }
    }
    throw new ArcaError('CONFLICT', `Too many concurrent changes to ${name}; try again`);
  }

  /**
   * Publishes a version: the tarball (already staged), then the document. FORBIDDEN when the
   * version exists; CONFLICT when a concurrent publish of the same version won. The staged
   * tarball is discarded unless it was committed. `email` is the publisher's, when known
   * (maintainers and `_npmUser` carry it).
   */
  async publish(repo: NpmRepo, pub: PublishRequest, tarball: StagedBinary, user: string, email?: string): Promise<PackageDocument> {
    try {
      return await this.publishStaged(repo, pub, tarball, user, email);
    } finally {
      await tarball.discard();
    }
  }

  private async publishStaged(repo: NpmRepo, pub: PublishRequest, tarball: StagedBinary, user: string, email?: string): Promise<PackageDocument> {
    const path = tarballPath(pub.name, pub.version);
    const publisher = { name: user, email };
    const before = await this.document(repo.key, pub.name);
    applyPublish(before?.doc, pub, publisher, this.nowIso()); // refuses an existing version before storing anything
    const sha1 = await this.storeTarball(repo, pub, tarball, user);
    try {
      return await this.update(
        repo,
        pub.name,
        user,
        (doc) => ({ doc: applyPublish(doc, pub, publisher, this.nowIso()), removed: [] }),
        async (trx) => {
          const tgz = await this.locked(trx, repo.key, path);
          if (tgz?.sha1 !== sha1) throw new ArcaError('CONFLICT', `A concurrent publish of ${pub.name}@${pub.version} won; fetch the package again`);
        },
      );
    } catch (err) {
      await this.dropOrphan(repo, pub.name, pub.version, sha1).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Stores a publish's tarball unless its version is published already; returns its sha1.
   * The rows are locked first, so this waits for a document commit that holds them and then
   * sees that commit's document.
   */
  private async storeTarball(repo: NpmRepo, pub: PublishRequest, tarball: StagedBinary, user: string): Promise<string> {
    const path = tarballPath(pub.name, pub.version);
    // One staged copy serves every attempt: it is committed once (again only after a failed
    // commit), and only the caller discards it.
    let committed: Promise<void> | undefined;
    const commitOnce = (): Promise<void> =>
      (committed ??= tarball.commit().catch((err) => {
        committed = undefined;
        throw err;
      }));
    const staged: StagedBinary = { ...tarball, commit: commitOnce, discard: async () => undefined };
    for (let attempt = 0; ; attempt++) {
      const now = this.clock.now();
      try {
        await this.content.commit(staged, async (trx) => {
          // Locks in the order document, then tarball: the order the document commit takes them.
          await this.locked(trx, repo.key, documentPath(pub.name));
          const existing = await this.locked(trx, repo.key, path);
          if (existing) {
            // Read again now that the tarball lock is held: a document commit that held it is visible.
            const docRow = await this.locked(trx, repo.key, documentPath(pub.name));
            if (docRow?.sha1 && (await this.parse(docRow)).versions[pub.version]) {
              throw new ArcaError('FORBIDDEN', `You cannot publish over the previously published version ${pub.version} of ${pub.name}`);
            }
          }
          await ensureFolders(trx, repo.key, path, user, now);
          const { row, replaced } = await putFile(trx, { repo: repo.key, fullPath: path, binary: staged, original: { sha1: pub.manifest.dist.shasum }, mimeType: 'application/x-compressed', user, now });
          // A tarball committed after the check above: check again, with its row locked.
          if (replaced && !existing) throw new StaleDocument();
          await setProperties(trx, row.id, { 'npm.name': [pub.name], 'npm.version': [pub.version] });
          await recordItems(this.database, trx, repo.key, [row], 'deploy');
        });
        return staged.sha1;
      } catch (err) {
        if (err instanceof FolderConflict) throw new ArcaError('CONFLICT', err.message);
        if (!(err instanceof StaleDocument || transient(err)) || attempt >= MAX_ATTEMPTS) throw err;
        await backoff(attempt);
      }
    }
  }

  /** Deletes a tarball this publish wrote when no document references its version. */
  private async dropOrphan(repo: NpmRepo, name: string, version: string, sha1: string): Promise<void> {
    await this.database.db.transaction().execute(async (trx) => {
      const docRow = await this.locked(trx, repo.key, documentPath(name));
      const tgz = await this.locked(trx, repo.key, tarballPath(name, version));
      if (tgz?.sha1 !== sha1) return;
      if (docRow?.sha1 && (await this.parse(docRow)).versions[version]) return;
      await deleteTree(trx, repo.key, tarballPath(name, version));
      await recordDeletes(this.database, repo.key, [tarballPath(name, version)], null, trx);
    });
  }

  /** Removes a whole package: its document and every tarball. `check` sees the current document first. */
  async deletePackage(repo: NpmRepo, name: string, check?: (doc: PackageDocument) => void): Promise<void> {
    const current = await this.document(repo.key, name);
    if (!current) throw new ArcaError('NOT_FOUND', `Package ${name} not found`);
    check?.(current.doc);
    await this.database.db.transaction().execute(async (trx) => {
      const row = await this.locked(trx, repo.key, documentPath(name));
      if ((row?.sha1 ?? undefined) !== current.sha1) {
        throw new ArcaError('CONFLICT', `${name} changed while it was being unpublished; fetch it again`);
      }
      await deleteTree(trx, repo.key, name);
      await deleteTree(trx, repo.key, `${METADATA_FOLDER}/${name}`);
      await recordDeletes(this.database, repo.key, [name, `${METADATA_FOLDER}/${name}`], null, trx);
    });
  }
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
