import type { FormatHandler } from '../format-handler.js';
import { parseDistributionFilename } from './filenames.js';

/**
 * The PyPI format in the shared framework. Local repositories keep distributions at
 * `{project}/{version}/{file}` with the wheel's core metadata beside it as
 * `{file}.metadata` (PEP 658); the simple pages are made from the stored files. Remote
 * repositories cache the upstream's pages under `.pypi/` (metadata, re-checked after the
 * retrieval cache period) and the files at their path below the upstream's `packages/`.
 */

/** Where a remote repository keeps an upstream simple page. */
export const PAGE_CACHE_FOLDER = '.pypi/simple';

export function cachedPagePath(project: string | undefined): string {
  return project === undefined ? `${PAGE_CACHE_FOLDER}.page` : `${PAGE_CACHE_FOLDER}/${project}.page`;
}

export const pypiHandler: FormatHandler = {
  packageTypes: ['pypi'],

  classify(path) {
    return path === '.pypi' || path.startsWith('.pypi/') ? 'metadata' : 'artifact';
  },

  async afterDelete(_repo, path, store) {
    // A distribution's PEP 658 metadata goes with it.
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (parseDistributionFilename(name).ok) await store.delete(`${path}.metadata`);
  },
};
