import { sql, type Kysely } from 'kysely';
import type { Schema } from '../../../db/schema.js';
import { dialectOf } from '../../../db/dialect.js';
import { pathKey } from '../../../db/items.js';
import { isTagFolderName, MANIFEST_FILES, referrersFolder } from '../layout.js';
import { referrersIndex, type Referrer, type ReferrersIndex } from '../referrers.js';
import { looksLikeDigest, parseDigest, type Digest } from '../reference.js';
import type { OciManifests } from './manifests.js';
import type { OciStore } from './oci-store.js';

/** One page of a sorted listing (`n` and `last` of the tags list and the catalog). */
export interface Page {
  items: string[];
  /** True when entries follow the page (the route adds a `Link: <…>; rel="next"`). */
  more: boolean;
}

/** Entries after `last`, at most `n` of them (ASCII order, as Go's sort.Strings). */
export function paginate(sorted: string[], n: number | undefined, last: string | undefined): Page {
  const after = last === undefined ? sorted : sorted.filter((s) => s > last);
  if (n === undefined) return { items: after, more: false };
  return { items: after.slice(0, n), more: n > 0 && after.length > n };
}

const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const TAG_BATCH = 500;
const CATALOG_BATCH = 500;
/**
 * The name ranges of an image's children that can be tags: around the digest folders
 * (`sha256:…` and `sha512:…`; ';' is the character after ':'), which a tag cannot be.
 */
const TAG_RANGES: [string | undefined, string | undefined][] = [
  [undefined, 'sha256:'],
  ['sha256;', 'sha512:'],
  ['sha512;', undefined],
];

/** Child folder names of an image in [lo, hi), after `after`, in byte order: one range of items_tree (tests explain it). */
export function tagCandidatesQuery(db: Kysely<Schema>, repo: string, image: string, lo: string | undefined, hi: string | undefined, after: string | undefined, limit: number) {
  const pg = dialectOf(db) === 'postgresql';
  const name = pg ? sql<string>`name collate "C"` : sql<string>`name`;
  const path = pg ? sql<string>`path collate "C"` : sql<string>`path`;
  let q = db.selectFrom('items').select('name').where('repo', '=', repo).where(path, '=', image).where('type', '=', 'folder');
  if (lo !== undefined) q = q.where(name, '>=', lo);
  if (hi !== undefined) q = q.where(name, '<', hi);
  if (after !== undefined) q = q.where(name, '>', after);
  return q.orderBy(name).limit(limit);
}

/** Up to `limit` images of `repo` after `after`, in byte order: a range of the oci_images key (tests explain it). */
export function imagesQuery(db: Kysely<Schema>, repo: string, after: string | undefined, limit: number) {
  const image = dialectOf(db) === 'postgresql' ? sql<string>`image collate "C"` : sql<string>`image`;
  let q = db.selectFrom('oci_images').select('image').where('repo', '=', repo);
  if (after !== undefined) q = q.where(image, '>', after);
  return q.orderBy(image).limit(limit);
}

/** Content discovery (OCI Distribution Spec): tags of an image, the catalog of images, referrers. */
export class OciDiscovery {
  constructor(
    private readonly store: OciStore,
    private readonly manifests: OciManifests,
  ) {}

  /** The tags of an image, sorted; undefined when the image does not exist at all. */
  async tags(repo: string, image: string): Promise<string[] | undefined> {
    return (await this.tagsPage(repo, image, undefined, undefined))?.items;
  }

  /**
   * One page of an image's tags (`n` at most, after `last`), sorted; undefined when the image
   * does not exist. The tags are the image folder's child folders that hold a manifest: read in
   * name order through `items_tree`, around the ranges of the digest folders (`sha256:…`,
   * `sha512:…`, however many manifests the image has), so a page costs its tags, not the image's
   * manifests.
   */
  async tagsPage(repo: string, image: string, n: number | undefined, last: string | undefined): Promise<Page | undefined> {
    if (!(await this.store.folder(repo, image))) return undefined;
    const want = n === undefined ? Infinity : n + 1;
    const found: string[] = [];
    const batch = n === undefined ? TAG_BATCH : Math.min(TAG_BATCH, n + 2);
    for (const [lo, hi] of TAG_RANGES) {
      let after = last;
      while (found.length < want) {
        const names = await this.tagCandidates(repo, image, lo, hi, after, batch);
        if (names.length === 0) break;
        after = names[names.length - 1];
        const folders = names.filter((name) => isTagFolderName(name));
        const keys = new Map(folders.flatMap((tag) => MANIFEST_FILES.map((f) => [pathKey(repo, `${image}/${tag}/${f}`), tag] as const)));
        const tagged = new Set<string>();
        for (let i = 0; i < keys.size; i += 500) {
          const rows = await this.store.database.db.selectFrom('items').select('path_key').where('path_key', 'in', [...keys.keys()].slice(i, i + 500)).where('type', '=', 'file').execute();
          for (const r of rows) tagged.add(keys.get(r.path_key)!);
        }
        for (const tag of folders) if (tagged.has(tag) && found.length < want) found.push(tag);
        if (names.length < batch) break;
      }
    }
    if (n === undefined) return { items: found, more: false };
    return { items: found.slice(0, n), more: n > 0 && found.length > n };
  }

  private async tagCandidates(repo: string, image: string, lo: string | undefined, hi: string | undefined, after: string | undefined, limit: number): Promise<string[]> {
    return (await tagCandidatesQuery(this.store.database.db, repo, image, lo, hi, after, limit).execute()).map((r) => r.name);
  }

  /**
   * One page of the images of the repositories given (`n` at most, after `last`), as sorted
   * `{repoKey}/{image}` names; `canRead` decides per image (with the image's path). Read from
   * `oci_images` (migration 0013) by its key: at most n + 1 readable images of each repository.
   */
  async catalogPage(repos: string[], canRead: (repo: string, path: string) => Promise<boolean>, n: number | undefined, last: string | undefined): Promise<Page> {
    const want = n === undefined ? Infinity : n + 1;
    const names: string[] = [];
    const db = this.store.database.db;
    for (const repo of repos) {
      const prefix = `${repo}/`;
      // The images of this repository after `last` in the order of full names.
      let after: string | undefined;
      if (last !== undefined) {
        if (last.startsWith(prefix)) after = last.slice(prefix.length);
        else if (prefix < last) continue;
      }
      let taken = 0;
      const batch = n === undefined ? CATALOG_BATCH : Math.min(CATALOG_BATCH, n + 1);
      while (taken < want) {
        const rows = await imagesQuery(db, repo, after, batch).execute();
        for (const r of rows) {
          if (taken >= want) break;
          if (!(await canRead(repo, r.image))) continue;
          names.push(`${prefix}${r.image}`);
          taken++;
        }
        if (rows.length < batch) break;
        after = rows[rows.length - 1].image;
      }
    }
    names.sort(ascii);
    if (n === undefined) return { items: names, more: false };
    return { items: names.slice(0, n), more: n > 0 && names.length > n };
  }

  /** Every image of the repositories given, as sorted `{repoKey}/{image}` names (see catalogPage). */
  async catalog(repos: string[], canRead: (repo: string, path: string) => Promise<boolean>): Promise<string[]> {
    return (await this.catalogPage(repos, canRead, undefined, undefined)).items;
  }

  /** The referrers of `subject` in an image: manifests pushed with it as their `subject`. */
  async referrers(repo: string, image: string, subject: Digest, artifactType?: string): Promise<ReferrersIndex> {
    const links = (await this.store.children(repo, referrersFolder(image, subject))).filter((r) => r.type === 'file' && looksLikeDigest(r.name));
    const found: Referrer[] = [];
    for (const link of links) {
      let d: Digest;
      try {
        d = parseDigest(link.name);
      } catch {
        continue;
      }
      // The manifest itself must still be there (a delete through the storage API leaves the link).
      const item = await this.manifests.findByDigest(repo, image, d);
      const manifest = item && (await this.manifests.parsed(item));
      if (!item || !manifest || manifest.subject?.digest.text !== subject.text) continue;
      found.push({ digest: d.text, size: Number(item.size), manifest });
    }
    return referrersIndex(found, artifactType);
  }
}
