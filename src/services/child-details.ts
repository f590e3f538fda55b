import { isoDate } from '../core/clock.js';
import type { ItemRow } from '../db/items.js';
import type { DownloadStats } from './download-stats.js';

/**
 * A FolderInfo child with the facts a folder table shows (`?details=1`, Arca's own): size,
 * dates, who created it, its download count, and for a virtual repository's merged listing the
 * member repository it comes from (`repo`).
 */
export interface DetailedChild {
  uri: string;
  folder: boolean;
  size: number;
  created: string;
  createdBy: string;
  lastModified: string;
  modifiedBy: string;
  downloadCount: number;
  lastDownloaded?: number;
  repo?: string;
  /** A folder of a merged listing: every member holding it. */
  repos?: string[];
  mimeType?: string;
}

/** The detailed entries of `rows` (one page at most: one download-count query for all of them). */
export async function detailedChildren(stats: Pick<DownloadStats, 'of'>, rows: Array<{ row: ItemRow; member?: string; members?: string[] }>): Promise<DetailedChild[]> {
  const files = rows.filter((r) => r.row.type === 'file').map((r) => Number(r.row.id));
  const counts = files.length > 0 ? await stats.of(files) : new Map();
  return rows.map(({ row, member, members }) => {
    const s = counts.get(Number(row.id));
    const folder = row.type === 'folder';
    return {
      uri: `/${row.name}`,
      folder,
      size: folder ? -1 : Number(row.size),
      created: isoDate(row.created),
      createdBy: row.created_by,
      lastModified: isoDate(row.modified),
      modifiedBy: row.modified_by,
      downloadCount: s?.downloads ?? 0,
      ...(s?.lastDownloaded ? { lastDownloaded: s.lastDownloaded } : {}),
      ...(member ? { repo: member } : {}),
      ...(members && members.length > 1 ? { repos: members } : {}),
      ...(!folder && row.mime_type ? { mimeType: row.mime_type } : {}),
    };
  });
}
