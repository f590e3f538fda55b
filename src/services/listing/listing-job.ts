import { isoDate } from '../../core/clock.js';
import { fullPathOf, type Db, type ItemRow } from '../../db/items.js';
import { idsWithProperties } from '../../db/search-queries.js';
import { TREE_PAGE, walkTree, type Pace } from '../../db/tree.js';
import { childEntries } from '../item-info.js';

/**
 * A streamed listing of the storage API as plain data, so that it can cross to the listing
 * thread (listing-thread.ts): what to walk and how to write each entry. The walk and the JSON
 * of its entries are the same code wherever they run: on the listing thread for SQLite, on the
 * event loop for PostgreSQL and MySQL (listing-runner.ts).
 */
export interface ListingJob {
  /** 'children': a FolderInfo's children (`{uri, folder}`); 'files': the entries of a `?list` answer. */
  kind: 'children' | 'files';
  repo: string;
  /** The folder listed ('' = the repository root). */
  folder: string;
  /** Levels below the folder (1 = its children); Infinity = the whole subtree. */
  depth: number;
  /** 'files': folders are entries too. */
  listFolders: boolean;
  /** 'files': entries of items with properties carry `mdTimestamps`. */
  mdTimestamps: boolean;
}

/**
 * Some entries of a listing, in order, as JSON text: `text` is the entries joined by commas,
 * `ends[i]` where entry i ends in it (at its comma, or the end of the text) and `paths` the
 * entries' full paths joined by NUL (no stored path holds one: db/nul-guard.ts), for the
 * caller's read check on the event loop (listing-runner.ts). Strings and a typed array: a
 * page crosses between threads as a few flat copies, not as 500 objects.
 */
export interface ListingPage {
  text: string;
  paths: string;
  ends: Uint32Array;
}

/** An entry of a `?list` answer (REST-API.md §2, FileList). */
export interface FileListEntry {
  uri: string;
  size: number;
  lastModified: string;
  folder: boolean;
  sha1?: string;
  sha2?: string;
  mdTimestamps?: { properties: string };
}

/** The `?list` entry of `row`, whose path is given relative to `folder`. */
export function fileListEntry(folder: string, row: ItemRow, withProperties: boolean): FileListEntry {
  const full = fullPathOf(row);
  const e: FileListEntry = { uri: `/${folder === '' ? full : full.slice(folder.length + 1)}`, size: row.type === 'folder' ? -1 : Number(row.size), lastModified: isoDate(row.modified), folder: row.type === 'folder' };
  if (row.type === 'file') {
    if (row.sha1) e.sha1 = row.sha1;
    if (row.sha256) e.sha2 = row.sha256;
  }
  if (withProperties) e.mdTimestamps = { properties: isoDate(row.updated) };
  return e;
}

function pageOf(rows: ItemRow[], entries: unknown[]): ListingPage {
  const texts = entries.map((e) => JSON.stringify(e));
  const ends = new Uint32Array(texts.length);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    at += texts[i].length;
    ends[i] = at;
    at += 1;
  }
  return { text: texts.join(','), paths: rows.map(fullPathOf).join('\u0000'), ends };
}

/** The entries of the rows of one page of the walk (none: undefined). */
async function entriesOf(db: Db, job: ListingJob, walked: ItemRow[]): Promise<ListingPage | undefined> {
  if (job.kind === 'children') return walked.length > 0 ? pageOf(walked, childEntries(walked)) : undefined;
  // Every row of the walk is within the depth asked for; only folders may be left out.
  const rows = job.listFolders ? walked : walked.filter((r) => r.type !== 'folder');
  if (rows.length === 0) return undefined;
  // Asked for every row of the page; the caller's read check (after this) keeps or drops whole entries.
  const withProps = job.mdTimestamps ? await idsWithProperties(db, rows.map((r) => r.id)) : undefined;
  return pageOf(
    rows,
    rows.map((r) => fileListEntry(job.folder, r, withProps?.has(r.id) ?? false)),
  );
}

/**
 * The listing's entries in tree order (depth first, each folder's content by name), a page of
 * the walk (at most TREE_PAGE rows) at a time; pages without entries are left out. `pace`
 * shares the thread between reads (a Slicer on the event loop, nothing on the listing thread).
 */
export async function* listingPages(db: Db, job: ListingJob, pace: Pace): AsyncGenerator<ListingPage> {
  for await (const walked of walkTree(db, job.repo, job.folder, job.depth, TREE_PAGE, pace)) {
    const page = await entriesOf(db, job, walked);
    if (page) yield page;
  }
}
