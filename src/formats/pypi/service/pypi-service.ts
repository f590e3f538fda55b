import { ArcaError } from '../../../core/errors.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { PypiPages, type PypiStores } from './pypi-pages.js';

/**
 * The PyPI use cases of every PyPI repository (local, remote, virtual): reading its simple
 * pages and files, and where an upload goes. Each takes the caller's `Access` and makes the
 * permission decision itself. `cacheOnly`: `{remote}-cache` was addressed, never ask the
 * upstream. Built once per node from the format module (`pypi.service`).
 */
export class PypiService {
  constructor(private readonly stores: PypiStores) {}

  /** The pages of `repo` as the caller sees them; refused unless the caller may read something in `repo`. */
  async reader(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<PypiPages> {
    if (!(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}'`);
    return new PypiPages(this.stores, access, cacheOnly);
  }

  /**
   * The file behind `packages/{segments}` (checked segments of the URL), stored or proxied;
   * refused unless the caller may read it, ITEM_NOT_FOUND when there is none.
   */
  async packageFile(access: Access, repo: RepoConfig, cacheOnly: boolean, segments: readonly string[]): Promise<ItemRow> {
    // `.pypi/` holds a remote's page cache, never a package.
    if (segments.length === 0 || segments[0] === '.pypi') throw new ArcaError('NOT_FOUND', 'Not found');
    const path = segments.join('/');
    await access.require('read', repo, path);
    const pages = await this.reader(access, repo, cacheOnly);
    const item = await pages.packageFile(repo, path);
    if (!item) throw new ArcaError('ITEM_NOT_FOUND', `Could not find '${path}' in repository '${repo.key}'`);
    return item;
  }

  /** The local repository an upload to `addressed` goes to; remote repositories are read-only. */
  async uploadTarget(addressed: RepoConfig, cacheOnly: boolean): Promise<RepoConfig> {
    if (addressed.rclass === 'remote' || cacheOnly) {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${addressed.key}' is read-only: upload to a local repository instead`);
    }
    return addressed.rclass === 'virtual' ? this.stores.packages.virtual.deploymentRepo(addressed) : addressed;
  }
}
