import { isoDate } from '../core/clock.js';
import { encodePath } from '../core/paths.js';
import { fullPathOf, type ItemRow } from '../db/items.js';

/** JFrog JSON shapes of items (REST-API.md §1–§2), shared by deploy, storage and search. */

export function downloadUri(base: string, repo: string, fullPath: string): string {
  return `${base}/${encodeURIComponent(repo)}/${encodePath(fullPath)}`;
}

export function storageUri(base: string, repo: string, fullPath: string): string {
  return fullPath === '' ? `${base}/api/storage/${encodeURIComponent(repo)}` : `${base}/api/storage/${encodeURIComponent(repo)}/${encodePath(fullPath)}`;
}

function checksumsOf(row: ItemRow) {
  // An MD5 still pending (MD5_PENDING, the empty string) is left out until the backfill computes it.
  return { sha1: row.sha1 ?? undefined, md5: row.md5 || undefined, sha256: row.sha256 ?? undefined };
}

function originalChecksumsOf(row: ItemRow) {
  const o: Record<string, string> = {};
  if (row.original_sha1) o.sha1 = row.original_sha1;
  if (row.original_md5) o.md5 = row.original_md5;
  if (row.original_sha256) o.sha256 = row.original_sha256;
  return o;
}

/** The deploy response of a file (ItemCreated). `withSha256` is false for ArtifactoryBuildClient. */
export function deployedFileJson(base: string, row: ItemRow, withSha256 = true) {
  const path = fullPathOf(row);
  const checksums: Record<string, string | undefined> = checksumsOf(row);
  if (!withSha256) delete checksums.sha256;
  return {
    repo: row.repo,
    path: `/${path}`,
    created: isoDate(row.created),
    createdBy: row.created_by,
    downloadUri: downloadUri(base, row.repo, path),
    mimeType: row.mime_type ?? 'application/octet-stream',
    size: String(row.size),
    checksums,
    originalChecksums: originalChecksumsOf(row),
    uri: storageUri(base, row.repo, path),
  };
}

export function deployedFolderJson(base: string, row: ItemRow) {
  const path = fullPathOf(row);
  return { repo: row.repo, path: `/${path}/`, created: isoDate(row.created), createdBy: row.created_by, uri: storageUri(base, row.repo, path) };
}

/** `/api/storage` file info (FileInfo). */
export function fileInfoJson(base: string, row: ItemRow) {
  const path = fullPathOf(row);
  return {
    repo: row.repo,
    path: `/${path}`,
    created: isoDate(row.created),
    createdBy: row.created_by,
    lastModified: isoDate(row.modified),
    modifiedBy: row.modified_by,
    lastUpdated: isoDate(row.updated),
    downloadUri: downloadUri(base, row.repo, path),
    mimeType: row.mime_type ?? 'application/octet-stream',
    size: String(row.size),
    checksums: checksumsOf(row),
    originalChecksums: originalChecksumsOf(row),
    uri: storageUri(base, row.repo, path),
  };
}

/** `/api/storage` folder info (FolderInfo); `row` is undefined for the repository root. */
/** A FolderInfo's `children` entries. */
export function childEntries(children: ItemRow[]): { uri: string; folder: boolean }[] {
  return children.map((c) => ({ uri: `/${c.name}`, folder: c.type === 'folder' }));
}

export function folderInfoJson(base: string, repo: string, row: ItemRow | undefined, children: ItemRow[], rootCreated: number) {
  const path = row ? fullPathOf(row) : '';
  const created = row?.created ?? rootCreated;
  return {
    repo,
    path: `/${path}`,
    created: isoDate(created),
    createdBy: row?.created_by ?? 'system',
    lastModified: isoDate(row?.modified ?? created),
    modifiedBy: row?.modified_by ?? 'system',
    lastUpdated: isoDate(row?.updated ?? created),
    children: childEntries(children),
    uri: storageUri(base, repo, path),
  };
}
