import { Readable } from 'node:stream';
import { ArcaError, badRequest, isArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { fullPathOf, getItem, getProperties, type ItemRow } from '../db/items.js';
import { descendantPages } from '../db/tree.js';
import type { Access } from '../security/access.js';
import type { FormatDeployService } from './format-deploy.js';
import type { RepoConfig, RepositoryService } from './repositories.js';

/**
 * `POST /api/copy/{repo}/{path}?to=/{repo}/{path}` and `/api/move/…` (issue 15, item 3):
 * a file, or a folder with everything below it, copied or moved to a local repository of a
 * compatible type, with its properties. Each file goes through the target's deploy (a
 * checksum deploy of the same binary: no bytes are copied, the format's hooks run, so Maven
 * metadata, npm packuments and PyPI pages are regenerated), and a move then deletes it from
 * the source through the source's delete (its hooks run too). A file that could not be copied
 * is never deleted from the source.
 *
 * Where the source lands: a file onto the target path, or into it when the target is an
 * existing folder or ends with '/'; a folder into the target when it ends with '/', else onto
 * the target folder, merged with what is there. Permissions: read (and, for a move, delete) on every source file; write on every
 * target path (and delete where a file is replaced), decided by the deploy.
 */

export interface CopyMoveOptions {
  dryRun: boolean;
  /** Stop at the first failure (`failFast=1`); else go on and report each. */
  failFast: boolean;
}

export interface Message {
  level: 'INFO' | 'WARNING' | 'ERROR';
  message: string;
}

export interface CopyMoveResult {
  /** 200 when everything went, 409 when something failed (the messages say what). */
  ok: boolean;
  messages: Message[];
}

type Mode = 'copy' | 'move';

const VERB: Record<Mode, { ing: string; ed: string }> = {
  copy: { ing: 'copying', ed: 'copied' },
  move: { ing: 'moving', ed: 'moved' },
};

/** Formats whose files can go to each other's repositories: the same type, or to and from generic. */
function compatible(a: RepoConfig, b: RepoConfig): boolean {
  return a.packageType === b.packageType || a.packageType === 'generic' || b.packageType === 'generic';
}

export class CopyMoveService {
  constructor(
    private readonly database: Database,
    private readonly repos: Pick<RepositoryService, 'get'>,
    private readonly deploy: Pick<FormatDeployService, 'deploy' | 'delete'>,
  ) {}

  /** `to`: the target repository and path; `into` when it ended with '/'. */
  async run(mode: Mode, access: Access, srcKey: string, srcPath: string, to: { repoKey: string; path: string; into: boolean }, opts: CopyMoveOptions): Promise<CopyMoveResult> {
    const dstKey = to.repoKey;
    const into = to.into;
    const dstRaw = to.path;
    const src = await this.repos.get(srcKey);
    if (!src) throw new ArcaError('REPO_NOT_FOUND', `Repository '${srcKey}' not found`);
    const dst = await this.repos.get(dstKey);
    if (!dst) throw new ArcaError('REPO_NOT_FOUND', `Repository '${dstKey}' not found`);
    if (src.rclass === 'virtual') throw badRequest(`Cannot ${mode} from virtual repository '${src.key}': name the repository that holds the item`);
    if (dst.rclass !== 'local') throw badRequest(`Cannot ${mode} to ${dst.rclass} repository '${dst.key}': the target must be a local repository`);
    if (mode === 'move' && src.rclass !== 'local') throw badRequest(`Cannot move out of ${src.rclass} repository '${src.key}': copy instead`);
    if (!compatible(src, dst)) {
      throw badRequest(`Cannot ${mode} between repositories of different types: '${src.key}' is ${src.packageType}, '${dst.key}' is ${dst.packageType}`);
    }
    const path = srcPath.replace(/^\/+|\/+$/g, '');
    const root = path === '' ? undefined : await getItem(this.database.db, src.key, path);
    if (path !== '' && !root) throw new ArcaError('ITEM_NOT_FOUND', `'${src.key}/${path}' does not exist`);
    if (!(await access.can('read', src, path))) await access.refuse(`read '${src.key}/${path}'`);

    // Where the source lands.
    const isFile = root?.type === 'file';
    let dstPath = dstRaw;
    if (isFile) {
      const existing = dstRaw === '' ? undefined : await getItem(this.database.db, dst.key, dstRaw);
      if (into || dstRaw === '' || existing?.type === 'folder') dstPath = dstRaw === '' ? root!.name : `${dstRaw}/${root!.name}`;
    } else if (root && into) {
      // `to=…/` names the folder to put it in: the CLI creates the parent and copies each folder it found into it.
      dstPath = dstRaw === '' ? root.name : `${dstRaw}/${root.name}`;
    }
    if (src.key === dst.key && (dstPath === path || (!isFile && (path === '' || dstPath.startsWith(`${path}/`))))) {
      throw badRequest(`Cannot ${mode} '${src.key}/${path}' onto or into itself`);
    }

    const v = VERB[mode];
    const messages: Message[] = [];
    let files = 0;
    let folders = 0;
    let failed = 0;
    const fail = (m: string) => {
      failed++;
      messages.push({ level: 'ERROR', message: m });
    };
    const targetOf = (row: ItemRow) => {
      if (isFile) return dstPath;
      const rel = path === '' ? fullPathOf(row) : fullPathOf(row).slice(path.length + 1);
      return dstPath === '' ? rel : rel === '' ? dstPath : `${dstPath}/${rel}`;
    };
    const moved: string[] = [];

    const one = async (row: ItemRow, props: Record<string, string[]>): Promise<void> => {
      const from = fullPathOf(row);
      const toPath = targetOf(row);
      try {
        if (!(await access.can('read', src, from))) await access.refuse(`read '${src.key}/${from}'`);
        if (mode === 'move' && !(await access.can('delete', src, from))) await access.refuse(`delete '${src.key}/${from}'`);
        if (opts.dryRun) {
          await this.check(access, dst, toPath, row.type === 'folder');
        } else if (row.type === 'folder') {
          await this.deploy.deploy({ repo: dst, path: toPath, folder: true, body: Readable.from([]), expected: {}, checksumDeploy: false, user: access.user, properties: props, access });
        } else {
          await this.deploy.deploy({
            repo: dst,
            path: toPath,
            folder: false,
            body: Readable.from([]),
            expected: { sha1: row.sha1 ?? undefined, sha256: row.sha256 ?? undefined },
            checksumDeploy: true,
            user: access.user,
            properties: props,
            access,
          });
          if (mode === 'move') moved.push(from);
        }
        if (row.type === 'folder') folders++;
        else files++;
      } catch (err) {
        if (!isArcaError(err)) throw err;
        fail(`${v.ing} ${src.key}:${from} to ${dst.key}:${toPath} failed: ${err.message}`);
        if (opts.failFast) throw new FailFast();
      }
    };

    try {
      // The item named itself (a file, or a folder landing on a named target), then what is below a folder.
      if (root && (isFile || dstPath !== '')) await one(root, (await getProperties(this.database.db, [Number(root.id)])).get(Number(root.id)) ?? {});
      if (!isFile) {
        for await (const page of descendantPages(this.database.db, src.key, path)) {
          const props = await getProperties(this.database.db, page.map((r) => Number(r.id)));
          for (const row of page) await one(row, props.get(Number(row.id)) ?? {});
        }
      }
    } catch (err) {
      if (!(err instanceof FailFast)) throw err;
    }

    // A move deletes what it copied: the source at once (one run of its format's hooks) when
    // everything was copied, else the copied files one by one, leaving what failed.
    if (mode === 'move' && !opts.dryRun) {
      if (failed === 0) {
        await this.deploy.delete(src, path, access).catch((err) => {
          if (!isArcaError(err, 'ITEM_NOT_FOUND')) throw err;
        });
      } else for (const from of moved) await this.deploy.delete(src, from, access);
    }

    const summary = `${opts.dryRun ? 'Dry run for ' : ''}${v.ing} ${src.key}:${path === '' ? '/' : path} to ${dst.key}:${dstPath === '' ? '/' : dstPath} ${
      failed === 0 ? 'completed successfully' : `completed with ${failed} error${failed === 1 ? '' : 's'}`
    }, ${files} artifacts and ${folders} folders were ${v.ed}`;
    messages.push({ level: failed === 0 ? 'INFO' : 'WARNING', message: summary });
    return { ok: failed === 0, messages };
  }

  /** What a dry run checks at a target path: write permission, the repository's patterns, and no file/folder clash or forbidden overwrite. */
  private async check(access: Access, dst: RepoConfig, toPath: string, folder: boolean): Promise<void> {
    await access.require('write', dst, toPath);
    const existing = await getItem(this.database.db, dst.key, toPath);
    if (!existing) return;
    if (folder && existing.type === 'file') throw new ArcaError('CONFLICT', `'${toPath}' is a file where a folder is needed`);
    if (!folder && existing.type === 'folder') throw new ArcaError('CONFLICT', `'${toPath}' is a folder; a file cannot replace it`);
    if (!folder && !(await access.can('delete', dst, toPath))) await access.refuse(`overwrite '${dst.key}/${toPath}'`);
  }
}

class FailFast extends Error {}
