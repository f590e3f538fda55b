import type { ContentStore } from '../content/content-store.js';
import type { Clock } from '../core/clock.js';
import { isChecksum, type Checksums } from '../core/digests.js';
import { ArcaError, overwriteRefused } from '../core/errors.js';
import type { MatrixParams } from '../core/paths.js';
import { isIncluded } from '../core/glob.js';
import type { Database } from '../db/database.js';
import {
  deleteTree,
  ensureFolders,
  findItem,
  FolderConflict,
  fullPathOf,
  getItem,
  listChildren,
  putFile,
  setProperties,
  type ItemRow,
  type PropertyMap,
} from '../db/items.js';
import { mimeTypeOf } from './mime-types.js';
import type { RepoConfig } from './repositories.js';
import type { AccessCheck } from './storage-api.js';

/** What a checksum deployer may read: the existing binary must be readable through one of its items. */
export interface ChecksumReader {
  /** The repositories the deployer may read something in (others are not looked at). */
  repos: RepoConfig[];
  can: AccessCheck;
}

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
  /** `X-Checksum-Deploy: true`: reference an existing binary instead of uploading. */
  checksumDeploy: boolean;
  /** For a checksum deploy: what the deployer may read (none given: no binary can be used). */
  reader?: ChecksumReader;
  user: string;
  /** Matrix parameters to store as properties (already filtered by annotate permission). */
  properties: MatrixParams;
  /** Whether the caller may replace an existing file (delete permission). */
  canOverwrite: boolean;
}

export interface DeployResult {
  item: ItemRow;
  replaced: boolean;
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
  ) {}

  checkDeployable(repo: RepoConfig, path: string): void {
    if (repo.blackedOut) throw new ArcaError('FORBIDDEN', `Repository '${repo.key}' is blacked out`);
    if (path !== '' && !isIncluded(path, repo.includesPattern, repo.excludesPattern)) {
      throw new ArcaError('FORBIDDEN', `Repository '${repo.key}' rejected '${path}': it does not match the include/exclude patterns`);
    }
  }

  async deploy(req: DeployRequest): Promise<DeployResult> {
    const { repo, path } = req;
    if (req.folder) return this.createFolder(req);
    if (path === '') throw new ArcaError('BAD_REQUEST', 'A file deploy needs a path below the repository');
    this.checkDeployable(repo, path);
    const existing = await getItem(this.database.db, repo.key, path);
    if (existing?.type === 'folder') throw new ArcaError('CONFLICT', `'${path}' is a folder; a file cannot replace it`);
    if (existing && !req.canOverwrite) throw overwriteRefused(repo.key, path, req.user);
    if (req.checksumDeploy) return this.deployByChecksum(req);

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
          mimeType: mimeTypeOf(path),
          user: req.user,
          now,
        });
        if (replaced && !req.canOverwrite) throw overwriteRefused(repo.key, path, req.user);
        await setProperties(trx, row.id, req.properties as PropertyMap);
        return { item: row, replaced: replaced !== undefined };
      }),
    );
  }

  private async deployByChecksum(req: DeployRequest): Promise<DeployResult> {
    // Drain whatever body the client sent; the content comes from the existing binary.
    for await (const _ of req.body) void _;
    const { sha1, sha256 } = req.expected;
    const by = sha256 !== undefined ? { sha256 } : sha1 !== undefined ? { sha1 } : undefined;
    if (!by) throw new ArcaError('CHECKSUM_DEPLOY_FAILED', 'Checksum deploy failed: no X-Checksum-Sha1 or X-Checksum-Sha256 header');
    if ((by.sha256 !== undefined && !isChecksum('sha256', by.sha256)) || (by.sha1 !== undefined && !isChecksum('sha1', by.sha1))) {
      throw new ArcaError('CHECKSUM_DEPLOY_FAILED', 'Checksum deploy failed: malformed checksum');
    }
    const binary = await this.content.findExisting(by);
    // A binary the deployer cannot read through any item is answered as an unknown one:
    // a checksum deploy neither copies nor reveals what the caller may not read.
    if (!binary || !(await this.readableCopy(binary.sha1, req.reader))) {
      const [alg, value] = Object.entries(by)[0];
      throw new ArcaError('CHECKSUM_DEPLOY_FAILED', `Checksum deploy failed. No existing file with ${alg}: ${value}`);
    }
    const now = this.clock.now();
    return wrapFolderConflict(
      this.content.reference(binary, async (trx) => {
        await ensureFolders(trx, req.repo.key, req.path, req.user, now);
        const { row, replaced } = await putFile(trx, {
          repo: req.repo.key,
          fullPath: req.path,
          binary,
          original: { sha1: binary.sha1, sha256: binary.sha256, md5: binary.md5 || undefined },
          mimeType: mimeTypeOf(req.path),
          user: req.user,
          now,
        });
        // A file committed after the check in deploy(): the same refusal.
        if (replaced && !req.canOverwrite) throw overwriteRefused(req.repo.key, req.path, req.user);
        await setProperties(trx, row.id, req.properties as PropertyMap);
        return { item: row, replaced: replaced !== undefined };
      }),
    );
  }

  /**
   * True when the reader may read some item holding the binary. Pages through the items with
   * that sha1 (its index) in the repositories the reader may read, and stops at the first
   * readable one, or after MAX_CHECKSUM_ITEMS.
   */
  private async readableCopy(sha1: string, reader: ChecksumReader | undefined): Promise<boolean> {
    if (!reader || reader.repos.length === 0) return false;
    const byKey = new Map(reader.repos.map((r) => [r.key, r]));
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
        if (await reader.can('read', byKey.get(row.repo)!, fullPathOf(row))) return true;
      }
      if (rows.length < CHECKSUM_PAGE) return false;
      after = Number(rows[rows.length - 1].id);
      seen += rows.length;
    }
    return false;
  }

  private async createFolder(req: DeployRequest): Promise<DeployResult> {
    for await (const _ of req.body) void _;
    if (req.path === '') throw new ArcaError('BAD_REQUEST', 'The repository root always exists');
    this.checkDeployable(req.repo, req.path);
    const now = this.clock.now();
    return wrapFolderConflict(
      this.database.db.transaction().execute(async (trx) => {
        const before = await getItem(trx, req.repo.key, req.path);
        await ensureFolders(trx, req.repo.key, req.path, req.user, now, true);
        const row = (await getItem(trx, req.repo.key, req.path))!;
        await setProperties(trx, row.id, req.properties as PropertyMap);
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

  async children(repo: string, folder: string): Promise<ItemRow[]> {
    return listChildren(this.database.db, repo, folder);
  }

  /** Deletes a file or a folder with everything in it; the binaries are left to GC. */
  async delete(repo: string, path: string): Promise<number> {
    const rows = await this.database.db.transaction().execute((trx) => deleteTree(trx, repo, path));
    if (rows.length === 0 && path !== '') throw new ArcaError('ITEM_NOT_FOUND', `Could not locate artifact '${repo}:${path}'`);
    return rows.length;
  }
}
