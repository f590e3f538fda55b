import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../../content/content-store.js';
import { DigestSet } from '../../core/digests.js';
import { ArcaError } from '../../core/errors.js';
import { getItem, getProperties, type ItemRow, type PropertyMap } from '../../db/items.js';
import type { Database } from '../../db/database.js';
import { SYSTEM_ACCESS } from '../../security/access.js';
import type { ArtifactService, DeployRequest } from '../artifacts.js';
import type { FormatDeployService } from '../format-deploy.js';
import { archiveTypeOf, readArchive, type ArchiveFile, type ArchiveLimits } from './archive-reader.js';

/** An explode's limits: those of the archive's contents, and the largest archive read. */
export interface ExplodeLimits extends ArchiveLimits {
  maxArchiveBytes: number;
}

export const DEFAULT_EXPLODE_LIMITS: ExplodeLimits = { maxEntries: 10_000, maxBytes: 1024 ** 3, maxRatio: 100, maxArchiveBytes: 1024 ** 3 };

export interface ExplodeResult {
  /** The folder the entries went to ('' for the repository root). */
  folder: string;
  files: ItemRow[];
  /** The archive's checksums (it is not stored). */
  archive: { sha1: string; sha256: string; md5: string; size: number };
}

/** What a file replaced by the explode was, so an atomic explode can put it back. */
interface Replaced {
  path: string;
  sha1: string;
  properties: PropertyMap;
}

/**
 * `X-Explode-Archive: true` (and `X-Explode-Archive-Atomic: true`) on a deploy: the archive
 * (zip, jar, tar, tar.gz) is not stored; its files are deployed under the folder of the PUT
 * path, each through the normal deploy (FormatDeployService: permission, include/exclude
 * patterns, overwrite rule, checksums, matrix properties, format hooks).
 *
 * The body is spooled to a temp file (at most `maxArchiveBytes`) and every entry is checked
 * before any is deployed (archive-reader.ts), so a hostile archive (an escaping path, a link,
 * a bomb) deploys nothing, atomic or not. Then each entry's target is checked (write
 * permission, patterns, a folder in the way, delete permission to replace a file). A deploy
 * that still fails part way (a format hook refusing a file, a full disk): an atomic explode
 * deletes the files it created and puts back the files it replaced (their binary and
 * properties), then answers the error; a plain one answers the error and keeps the files
 * deployed before the failing one, as the seed product does.
 */
export class ArchiveExplodeService {
  constructor(
    private readonly database: Database,
    private readonly artifacts: Pick<ArtifactService, 'checkDeployable'>,
    private readonly deploys: FormatDeployService,
    private readonly content: Pick<ContentStore, 'read'>,
    private readonly limits: ExplodeLimits = DEFAULT_EXPLODE_LIMITS,
  ) {}

  async explode(req: DeployRequest, atomic: boolean): Promise<ExplodeResult> {
    const { repo, path, access } = req;
    if (repo.rclass !== 'local') throw new ArcaError(repo.rclass === 'remote' ? 'METHOD_NOT_ALLOWED' : 'BAD_REQUEST', `Cannot deploy to ${repo.rclass} repository '${repo.key}'`);
    if (req.folder || path === '') throw new ArcaError('BAD_REQUEST', 'X-Explode-Archive needs the path of an archive file, not a folder');
    // Before the body is read: the caller may write at the archive's path.
    await access.require('write', repo, path);
    const type = archiveTypeOf(path);
    if (!type) throw new ArcaError('BAD_REQUEST', `X-Explode-Archive: '${path}' is not a zip, jar, war, ear, aar, tar, tar.gz or tgz archive`);
    const slash = path.lastIndexOf('/');
    const folder = slash < 0 ? '' : path.slice(0, slash);
    const dir = await mkdtemp(join(tmpdir(), 'arca-explode-'));
    try {
      const file = join(dir, 'archive');
      const archive = await this.spool(req, file);
      const files = await readArchive(file, type, this.limits, join(dir, 'unpacked.tar'));
      const targets = files.map((f) => ({ file: f, path: folder ? `${folder}/${f.path}` : f.path }));
      const replaced = await this.precheck(req, targets.map((t) => t.path));
      const done: ItemRow[] = [];
      try {
        for (const t of targets) done.push(await this.deployOne(req, t.file, t.path));
      } catch (err) {
        if (atomic) await this.rollBack(req, done, replaced);
        throw err;
      }
      return { folder, files: done, archive };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Writes the body to `file` with its checksums, within the size limit; checks the declared checksums. */
  private async spool(req: DeployRequest, file: string): Promise<ExplodeResult['archive']> {
    const digests = new DigestSet();
    const max = this.limits.maxArchiveBytes;
    const body = req.body;
    async function* counted() {
      for await (const chunk of body) {
        digests.update(chunk);
        if (digests.size > max) throw new ArcaError('BAD_REQUEST', `The archive is larger than ${max} bytes, the limit`);
        yield chunk;
      }
    }
    await pipeline(Readable.from(counted()), createWriteStream(file), { signal: req.signal });
    const sums = digests.digest();
    for (const alg of ['sha1', 'sha256', 'md5'] as const) {
      const want = req.expected[alg];
      if (want !== undefined && want !== sums[alg]) {
        throw new ArcaError('CHECKSUM_MISMATCH', `Checksum mismatch for '${req.repo.key}/${req.path}': the client's ${alg} is ${want}, the server computed ${sums[alg]}`);
      }
    }
    return sums;
  }

  /** Checks every target before anything is deployed; returns the files that would be replaced. */
  private async precheck(req: DeployRequest, paths: string[]): Promise<Map<string, Replaced>> {
    const { repo, access } = req;
    const replaced = new Map<string, Replaced>();
    for (const p of paths) {
      this.artifacts.checkDeployable(repo, p);
      await access.require('write', repo, p);
      const existing = await getItem(this.database.db, repo.key, p);
      if (!existing) continue;
      if (existing.type === 'folder') throw new ArcaError('CONFLICT', `'${p}' is a folder; a file of the archive cannot replace it`);
      if (!(await access.can('delete', repo, p))) {
        throw new ArcaError('FORBIDDEN', `Not enough permissions to overwrite '${repo.key}/${p}' (user '${req.user}' needs DELETE permission)`);
      }
      const props = (await getProperties(this.database.db, [existing.id])).get(existing.id) ?? {};
      replaced.set(p, { path: p, sha1: existing.sha1!, properties: props });
    }
    return replaced;
  }

  private async deployOne(req: DeployRequest, file: ArchiveFile, path: string): Promise<ItemRow> {
    const result = await this.deploys.deploy({ ...req, path, folder: false, body: file.open(), expected: {}, checksumDeploy: false });
    if (result.absorbed) {
      // A checksum file the format records beside its target: nothing of ours to roll back.
      return result.item ?? (await getItem(this.database.db, req.repo.key, path))!;
    }
    return result.item;
  }

  /** Undoes a failed atomic explode: created files deleted, replaced files restored. */
  private async rollBack(req: DeployRequest, done: ItemRow[], replaced: Map<string, Replaced>): Promise<void> {
    for (const item of done) {
      const p = item.path ? `${item.path}/${item.name}` : item.name;
      const before = replaced.get(p);
      try {
        if (!before) {
          await this.deploys.delete(req.repo, p, SYSTEM_ACCESS);
          continue;
        }
        // The old binary is unreferenced now but not collected (garbage collection's grace period).
        await this.deploys.deploy({
          ...req,
          path: p,
          folder: false,
          body: await this.content.read(before.sha1),
          expected: { sha1: before.sha1 },
          checksumDeploy: false,
          properties: before.properties as DeployRequest['properties'],
          matrix: undefined,
          access: SYSTEM_ACCESS,
        });
      } catch {
        // Best effort: the error that stopped the explode is the one answered.
      }
    }
  }
}
