import { sha256Hex } from '../../../core/digests.js';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { LruCache } from '../../../core/lru-cache.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatServiceDeps } from '../../format-services.js';
import { REPODATA, REPOMD, underRoot } from '../layout.js';
import { parseRepomd, type ListedFile } from '../repomd-parse.js';

/** Largest upstream repomd.xml read. */
export const MAX_REPOMD_BYTES = 8 * 1024 * 1024;
/** The remote repository field that holds the upstream's armored public key(s). */
export const UPSTREAM_KEY_FIELD = 'rpmUpstreamPublicKey';

/** Content-addressed data file names (`{hex}-primary.xml.gz`) never change upstream. */
function contentAddressed(name: string): boolean {
  return /^[0-9a-f]{32,128}-/.test(name);
}

/**
 * A remote RPM repository's `repodata/`, through the shared remote fetch (and its cache):
 * the upstream's repomd.xml, checked against the upstream key when the remote has one
 * (`rpmUpstreamPublicKey`), and its data files, checked against the checksums it lists.
 */
export class RemoteRepodata {
  /** Upstream repomd.xml copies whose signature was checked, by their SHA-1 and the keys'. */
  private readonly verified = new LruCache<true>(4096);

  constructor(private readonly deps: FormatServiceDeps) {}

  /** The whole content of a stored item, at most `max` bytes (an upstream's file past it is refused). */
  async readItem(item: ItemRow, max: number, repo: RepoConfig): Promise<Buffer> {
    const { content } = this.deps;
    const tooLarge = () => new ArcaError('UPSTREAM_FAILED', `'${item.name}' of '${repo.key}' is larger than ${max} bytes`);
    if (Number(item.size) > max) throw tooLarge();
    if (Number(item.size) <= content.smallFileLimit) return content.readSmall(item.sha1!);
    return readBounded(await content.read(item.sha1!), max, tooLarge);
  }

  private async fetch(access: Access, repo: RepoConfig, path: string, cacheOnly: boolean, kind: 'metadata' | 'artifact'): Promise<ItemRow | undefined> {
    try {
      return await this.deps.packages.remote.fetch(repo, path, { kind, user: access.user, cacheOnly });
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /**
   * A remote's repomd.xml (cached by the remote fetch rules); with an upstream key configured,
   * only when its `repomd.xml.asc` is a good signature by that key (else UPSTREAM_FAILED).
   */
  async remoteRepomd(access: Access, repo: RepoConfig, root: string, cacheOnly: boolean): Promise<ItemRow | undefined> {
    const path = underRoot(root, `${REPODATA}/${REPOMD}`);
    const item = await this.fetch(access, repo, path, cacheOnly, 'metadata');
    if (!item?.sha1) return undefined;
    const keys = repo[UPSTREAM_KEY_FIELD];
    if (typeof keys !== 'string' || keys.trim() === '') return item;
    // Checked once per copy and key set (another remote may name other keys for the same upstream).
    const checked = `${item.sha1} ${sha256Hex(keys)}`;
    if (this.verified.get(checked)) return item;
    const failed = (why: string) => new ArcaError('UPSTREAM_FAILED', `The upstream repomd.xml of '${repo.key}' is refused: ${why}`);
    const asc = await this.fetch(access, repo, `${path}.asc`, cacheOnly, 'metadata');
    if (!asc?.sha1) throw failed('it has no repomd.xml.asc signature, and the remote has an upstream key');
    const signature = (await this.readItem(asc, 64 * 1024, repo)).toString('utf8');
    const data = await this.readItem(item, MAX_REPOMD_BYTES, repo);
    if (!(await this.deps.signing.verifyDetached(data, signature, keys))) throw failed(`its signature is not a good signature by the key in ${UPSTREAM_KEY_FIELD}`);
    this.verified.set(checked, true);
    return item;
  }

  /** The files a remote's (checked) repomd.xml lists; [] when it has none. */
  async remoteListing(access: Access, repo: RepoConfig, root: string, cacheOnly: boolean): Promise<ListedFile[]> {
    const item = await this.remoteRepomd(access, repo, root, cacheOnly);
    if (!item) return [];
    return parseRepomd(await this.readItem(item, MAX_REPOMD_BYTES, repo), `repomd.xml of '${repo.key}'`).files;
  }

  /**
   * A data file of a remote's repodata, cached, and refused (its cached copy dropped) when its
   * checksum is not the one the upstream's repomd.xml lists for it.
   */
  async remoteDataFile(access: Access, repo: RepoConfig, root: string, name: string, cacheOnly: boolean): Promise<ItemRow | undefined> {
    const path = underRoot(root, `${REPODATA}/${name}`);
    const item = await this.fetch(access, repo, path, cacheOnly, contentAddressed(name) ? 'artifact' : 'metadata');
    if (!item) return undefined;
    const listed = (await this.remoteListing(access, repo, root, true).catch(() => [])).find((f) => f.href === `${REPODATA}/${name}`);
    if (!listed) return item;
    const actual = listed.checksumType === 'sha256' ? item.sha256 : listed.checksumType === 'sha1' || listed.checksumType === 'sha' ? item.sha1 : undefined;
    if (actual && actual !== listed.checksum) {
      await this.deps.artifacts.delete(repo.key, path).catch(() => undefined);
      throw new ArcaError('UPSTREAM_FAILED', `'${name}' from the upstream of '${repo.key}' does not have the ${listed.checksumType} checksum its repomd.xml lists`);
    }
    return item;
  }
}
