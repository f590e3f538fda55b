import type { ContentStore } from '../content/content-store.js';
import type { Clock } from '../core/clock.js';
import { isChecksum, type Checksums } from '../core/digests.js';
import { ArcaError, overwriteRefused } from '../core/errors.js';
import type { MatrixParams } from '../core/paths.js';
import { isIncluded } from '../core/glob.js';
import type { Database } from '../db/database.js';
import {
  deleteTreeInBatches,
  ensureFolders,
  findItem,
  FolderConflict,
  fullPathOf,
  getItem,
  listChildren,
  putFile,
  setProperties,
  type BinaryRow,
  type ItemRow,
  type PropertyMap,
} from '../db/items.js';
import type { Access } from '../security/access.js';
import { mimeTypeOf } from './mime-types.js';
import { recordDeletes, recordItems } from './replication/change-capture.js';
import { repositoriesReadableBy, type RepoConfig, type RepositoryService } from './repositories.js';

/** Items holding a checksum looked at per query, and at most in all, before a checksum deploy gives up. */
const CHECKSUM_PAGE = 100;
const MAX_CHECKSUM_ITEMS = 1000;

export interface DeployRequest {
  repo: RepoConfig;
  path: string;
  /** The request path ended in '/': create a folder. */
  folder: boolean;
  body: AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  /** Checksums the client declared (X-Checksum-*); a mismatch rejects the upload. */
  expected: Partial<Checksums>;
  /**
   * `X-Checksum-Deploy: true`: reference an existing binary instead of uploading. The binary
   * must be readable by the deployer through one of its items.
   */
  checksumDeploy: boolean;
  /** Who is recorded as having deployed the file. */
  user: string;
  /** Properties to store as they are (what a format derives from the file, say). */
  properties: MatrixParams;
  /** Properties the caller asks for (matrix parameters): stored too when the caller may annotate. */
  matrix?: MatrixParams;
  /**
   * Who deploys; the deploy decides here what they may do (see `ArtifactService.deploy`).
   * `SYSTEM_ACCESS` (security/access.ts) for files a format writes on its own account.
   */
  access: Access;
  /**
   * The site a replicated change came from (`X-Arca-Replication-Origin`); recorded with the
   * change's event so it is never sent back there. Undefined for a change made at this site.
   */
  origin?: string;
  /** The item's media type, when the path does not tell it (a replicated OCI manifest). */
  mimeType?: string;
}

export interface DeployResult {
  item: ItemRow;
  replaced: boolean;
}

/** What the deploying caller was allowed beyond writing. */
interface Grant {
  properties: PropertyMap;
  /** May replace an existing file (delete permission at the path). */
  overwrite: boolean;
}

function wrapFolderConflict<T>(p: Promise<T>): Promise<T> {
  return p.catch((err) => {
    if (err instanceof FolderConflict) throw new ArcaError('CONFLICT', err.message);
    throw err;
  });
}

/** Deploy, resolve and delete of artifacts in local repositories, format-agnostic. */
export class ArtifactService {
  constructor(
    private readonly database: Database,
    private readonly content: ContentStore,
    private readonly clock: Clock,
    /** Where a checksum deploy may find its binary (the repositories the deployer may read). */
    private readonly repos: Pick<RepositoryService, 'list'>,
  ) {}

  checkDeployable(repo: RepoConfig, path: string): void {
    if (repo.blackedOut) throw new ArcaError('FORBIDDEN', `Repository '${repo.key}' is blacked out`);
    if (path !== '' && !isIncluded(path, repo.includesPattern, repo.excludesPattern)) {
      throw new ArcaError('FORBIDDEN', `Repository '${repo.key}' rejected '${path}': it does not match the include/exclude patterns`);
    }
  }

  /**
   * The permission a deploy needs before anything else: write at its path. `deploy` asks it
   * itself; FormatDeployService asks it too before the format's hooks read the body.
   */
  requireWrite(req: Pick<DeployRequest, 'access' | 'repo' | 'path'>): Promise<void> {
    return req.access.require('write', req.repo, req.path);
  }

  /**
   * Stores a file or creates a folder, once the caller's write permission at the path is
   * checked (`requireWrite`, asked by the deploy use case, FormatDeployService.deploy, before
   * any format hook runs). Decides the rest of what the caller may do: replace an existing
   * file only with delete permission there (else the overwrite refusal), and store the
   * requested matrix properties only with annotate permission (else they are dropped).
   */
  async deploy(req: DeployRequest): Promise<DeployResult> {
    const { repo, path, access } = req;
    const properties = await this.propertiesOf(req);
    if (req.folder) return this.createFolder(req, properties);
    const grant: Grant = { properties, overwrite: await access.can('delete', repo, path) };
    if (path === '') throw new ArcaError('BAD_REQUEST', 'A file deploy needs a path below the repository');
    this.checkDeployable(repo, path);
    const existing = await getItem(this.database.db, repo.key, path);
    if (existing?.type === 'folder') throw new ArcaError('CONFLICT', `'${path}' is a folder; a file cannot replace it`);
    if (existing && !grant.overwrite) throw overwriteRefused(repo.key, path, req.user);
    if (req.checksumDeploy) return this.deployByChecksum(req, grant);

    const staged = await this.content.stage(req.body, { signal: req.signal });
    for (const alg of ['sha1', 'sha256', 'md5'] as const) {
      const want = req.expected[alg];
      if (want !== undefined && want !== staged[alg]) {
        await staged.discard();
        throw new ArcaError(
          'CHECKSUM_MISMATCH',
          `Checksum mismatch for '${repo.key}/${path}': the client's ${alg} is ${want}, the server computed ${staged[alg]}`,
        );
      }
    }
    const now = this.clock.now();
    return wrapFolderConflict(
      this.content.commit(staged, async (trx) => {
        await ensureFolders(trx, repo.key, path, req.user, now);
        const { row, replaced } = await putFile(trx, {
          repo: repo.key,
          fullPath: path,
          binary: staged,
          original: req.expected,
          mimeType: req.mimeType ?? mimeTypeOf(path),
          user: req.user,
          now,
        });
        if (replaced && !grant.overwrite) throw overwriteRefused(repo.key, path, req.user);
        // A file's properties are the deploy's own (putFile dropped those of a replaced file): a replication apply's are exact.
        await setProperties(trx, row.id, grant.properties);
        await recordItems(this.database, trx, repo.key, [row], 'deploy', req.origin, grant.properties);
        return { item: row, replaced: replaced !== undefined };
      }),
    );
  }

  /**
   * The existing binary a checksum deploy names (sha256 wins over sha1), when the caller may
   * read it through some item; else the checksum deploy's 404. A format that checks a file's
   * content before it is stored reads it from this binary.
   */
  async checksumDeployBinary(req: Pick<DeployRequest, 'expected' | 'access'>): Promise<BinaryRow> {
    const { sha1, sha256 } = req.expected;
    const by = sha256 !== undefined ? { sha256 } : sha1 !== undefined ? { sha1 } : undefined;
    if (!by) throw new ArcaError('CHECKSUM_DEPLOY_FAILED', 'Checksum deploy failed: no X-Checksum-Sha1 or X-Checksum-Sha256 header');
    if ((by.sha256 !== undefined && !isChecksum('sha256', by.sha256)) || (by.sha1 !== undefined && !isChecksum('sha1', by.sha1))) {
      throw new ArcaError('CHECKSUM_DEPLOY_FAILED', 'Checksum deploy failed: malformed checksum');
    }
    const binary = await this.content.findExisting(by);
    // A binary the deployer cannot read through any item is answered as an unknown one:
    // a checksum deploy neither copies nor reveals what the caller may not read.
    if (!binary || !(await this.readableCopy(binary.sha1, req.access))) {
      const [alg, value] = Object.entries(by)[0];
      throw new ArcaError('CHECKSUM_DEPLOY_FAILED', `Checksum deploy failed. No existing file with ${alg}: ${value}`);
    }
    return binary;
  }

  private async deployByChecksum(req: DeployRequest, grant: Grant): Promise<DeployResult> {
    // Drain whatever body the client sent; the content comes from the existing binary.
    for await (const _ of req.body) void _;
    const binary = await this.checksumDeployBinary(req);
    const now = this.clock.now();
    return wrapFolderConflict(
      this.content.reference(binary, async (trx) => {
        await ensureFolders(trx, req.repo.key, req.path, req.user, now);
        const { row, replaced } = await putFile(trx, {
          repo: req.repo.key,
          fullPath: req.path,
          binary,
          original: { sha1: binary.sha1, sha256: binary.sha256, md5: binary.md5 || undefined },
          mimeType: req.mimeType ?? mimeTypeOf(req.path),
          user: req.user,
          now,
        });
        // A file committed after the check in deploy(): the same refusal.
        if (replaced && !grant.overwrite) throw overwriteRefused(req.repo.key, req.path, req.user);
        // A file's properties are the deploy's own (putFile dropped those of a replaced file): a replication apply's are exact.
        await setProperties(trx, row.id, grant.properties);
        await recordItems(this.database, trx, req.repo.key, [row], 'deploy', req.origin, grant.properties);
        return { item: row, replaced: replaced !== undefined };
      }),
    );
  }

  /** The properties a deploy stores: its own, and the requested ones when the caller may annotate. */
  private async propertiesOf(req: DeployRequest): Promise<PropertyMap> {
    const asked = req.matrix ?? {};
    if (Object.keys(asked).length === 0 || !(await req.access.can('annotate', req.repo, req.path))) return req.properties as PropertyMap;
    return { ...req.properties, ...asked } as PropertyMap;
  }

  /**
   * True when the caller may read some item holding the binary. Pages through the items with
   * that sha1 (its index) in the repositories the caller may read, and stops at the first
   * readable one, or after MAX_CHECKSUM_ITEMS.
   */
  /**
   * Which of `sha1s` a checksum deploy by `access` would find now: binaries stored and readable
   * through some item (the rule of deployByChecksum, so the answer reveals nothing more than a
   * checksum deploy does). One query for the set; the readability check only for those found.
   */
  async knownBinaries(sha1s: readonly string[], access: Access): Promise<string[]> {
    const unique = [...new Set(sha1s)];
    if (unique.length === 0) return [];
    const found = await this.database.db.selectFrom('binaries').select('sha1').where('sha1', 'in', unique).where('size', '>=', 0).execute();
    const known: string[] = [];
    for (const { sha1 } of found) if (await this.readableCopy(sha1, access)) known.push(sha1);
    return known;
  }

  private async readableCopy(sha1: string, access: Access): Promise<boolean> {
    const repos = await repositoriesReadableBy(access, this.repos);
    if (repos.length === 0) return false;
    const byKey = new Map(repos.map((r) => [r.key, r]));
    let after = 0;
    for (let seen = 0; seen < MAX_CHECKSUM_ITEMS; ) {
      const rows = await this.database.db
        .selectFrom('items')
        .select(['id', 'repo', 'path', 'name'])
        .where('sha1', '=', sha1)
        .where('repo', 'in', [...byKey.keys()])
        .where('id', '>', after)
        .orderBy('id')
        .limit(CHECKSUM_PAGE)
        .execute();
      for (const row of rows) {
        if (await access.can('read', byKey.get(row.repo)!, fullPathOf(row))) return true;
      }
      if (rows.length < CHECKSUM_PAGE) return false;
      after = Number(rows[rows.length - 1].id);
      seen += rows.length;
    }
    return false;
  }

  private async createFolder(req: DeployRequest, properties: PropertyMap): Promise<DeployResult> {
    for await (const _ of req.body) void _;
    if (req.path === '') throw new ArcaError('BAD_REQUEST', 'The repository root always exists');
    this.checkDeployable(req.repo, req.path);
    const now = this.clock.now();
    return wrapFolderConflict(
      this.database.db.transaction().execute(async (trx) => {
        const before = await getItem(trx, req.repo.key, req.path);
        await ensureFolders(trx, req.repo.key, req.path, req.user, now, true);
        const row = (await getItem(trx, req.repo.key, req.path))!;
        await setProperties(trx, row.id, properties);
        await recordItems(this.database, trx, req.repo.key, [row], 'deploy', req.origin);
        return { item: row, replaced: before !== undefined };
      }),
    );
  }

  /** The item at a path; ITEM_NOT_FOUND when absent. The repository root has no row. */
  async resolve(repo: string, path: string): Promise<ItemRow> {
    const row = await findItem(this.database, repo, path);
    if (!row) throw new ArcaError('ITEM_NOT_FOUND', `Could not find resource '${repo}/${path}'`);
    return row;
  }

  async find(repo: string, path: string): Promise<ItemRow | undefined> {
    return findItem(this.database, repo, path);
  }

  /** A number that changes with every commit to the database; undefined when there is no cheap one (see Database.changeStamp). */
  changeStamp(): number | undefined {
    return this.database.changeStamp?.();
  }

  async children(repo: string, folder: string): Promise<ItemRow[]> {
    return listChildren(this.database.db, repo, folder);
  }

  /** Deletes a file or a folder with everything in it; the binaries are left to GC. */
  async delete(repo: string, path: string, options: { origin?: string } = {}): Promise<number> {
    // In short batches (src/db/items.ts): a big folder never holds the write lock for long.
    const removed = await deleteTreeInBatches(this.database.db, repo, path);
    if (removed === 0 && path !== '') throw new ArcaError('ITEM_NOT_FOUND', `Could not locate artifact '${repo}:${path}'`);
    // Once the whole tree is gone: one event for the path (delivery deletes it on the target while it stays absent here).
    await recordDeletes(this.database, repo, [path], options.origin);
    return removed;
  }
}
