import type { ContentStore } from '../../content/content-store.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { ArtifactService } from '../artifacts.js';
import type { FormatDeployService } from '../format-deploy.js';
import { ArchiveDownloadService, type FolderDownloadLimits } from './archive-download.js';
import { listArchiveEntries, type ArchiveListing } from './archive-entries.js';
import { ArchiveIndexer } from './archive-index.js';
import { ArchiveExplodeService } from './explode.js';

/** Archives (issue 15, item 5): explode on deploy, the entry index, folder downloads. */
export interface ArchiveServices {
  explode: ArchiveExplodeService;
  index: ArchiveIndexer;
  download: ArchiveDownloadService;
  /** The entries of a stored archive (browsing inside it), read from its binary within bounds. */
  entries(name: string, size: number, sha1: string): Promise<ArchiveListing>;
}

export interface ArchiveServiceDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
  artifacts: ArtifactService;
  deploys: FormatDeployService;
  download: FolderDownloadLimits;
  warn: (message: string) => void;
}

/** Builds the archive services and lets the index hear of every deployed file. */
export function createArchiveServices(deps: ArchiveServiceDeps): ArchiveServices {
  const index = new ArchiveIndexer(deps.database, deps.content, deps.clock, undefined, deps.warn);
  deps.deploys.listen({ stored: async (_repo, _path, item) => index.deployed(item.name, item.sha1) });
  return {
    explode: new ArchiveExplodeService(deps.database, deps.artifacts, deps.deploys, deps.content),
    index,
    download: new ArchiveDownloadService(deps.database, deps.content, deps.download),
    entries: (name, size, sha1) => listArchiveEntries(name, size, (range) => deps.content.read(sha1, range)),
  };
}
