import { nameOf, parentOf } from '../../../core/paths.js';
import { isDigestFolderName, isTagFolderName, MANIFEST_FILES, referrersFolder } from '../layout.js';
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

/** Content discovery (OCI Distribution Spec): tags of an image, the catalog of images, referrers. */
export class OciDiscovery {
  constructor(
    private readonly store: OciStore,
    private readonly manifests: OciManifests,
  ) {}

  /** The tags of an image, sorted; undefined when the image does not exist at all. */
  async tags(repo: string, image: string): Promise<string[] | undefined> {
    if (!(await this.store.folder(repo, image))) return undefined;
    const candidates = (await this.store.children(repo, image)).filter((r) => r.type === 'folder' && isTagFolderName(r.name)).map((r) => `${image}/${r.name}`);
    const tagged = new Set<string>();
    for (let i = 0; i < candidates.length; i += 500) {
      const rows = await this.store.database.db
        .selectFrom('items')
        .select('path')
        .where('repo', '=', repo)
        .where('name', 'in', [...MANIFEST_FILES])
        .where('path', 'in', candidates.slice(i, i + 500))
        .execute();
      for (const r of rows) tagged.add(nameOf(r.path));
    }
    return [...tagged].sort(ascii);
  }

  /**
   * Every image of the repositories given, as `{repoKey}/{image}` names, sorted; `canRead`
   * decides per image (with the path of one of its manifests).
   */
  async catalog(repos: string[], canRead: (repo: string, path: string) => Promise<boolean>): Promise<string[]> {
    const names = new Set<string>();
    for (const repo of repos) {
      const rows = await this.store.database.db
        .selectFrom('items')
        .select(['path', 'name'])
        .where('repo', '=', repo)
        .where('name', 'in', [...MANIFEST_FILES])
        .where('type', '=', 'file')
        .execute();
      const images = new Map<string, string>();
      for (const r of rows) {
        if (!isDigestFolderName(nameOf(r.path))) continue;
        const image = parentOf(r.path);
        if (image !== '' && !images.has(image)) images.set(image, `${r.path}/${r.name}`);
      }
      for (const [image, path] of images) if (await canRead(repo, path)) names.add(`${repo}/${image}`);
    }
    return [...names].sort(ascii);
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
