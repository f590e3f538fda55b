import { parentOf } from '../../../core/paths.js';
import type { ItemRow } from '../../../db/items.js';
import { blobFileName, blobLinkPath } from '../layout.js';
import type { Digest } from '../reference.js';
import { binaryOf, type BinaryRef, type OciStore } from './oci-store.js';

export const BLOB_MIME_TYPE = 'application/octet-stream';

/**
 * The blobs of an image: a blob is in an image when the image links it (`_uploads/{alg}__{hex}`,
 * written by an upload or a mount) or when one of the image's manifests lists it (the layer
 * items of its tag and digest folders, which stay when links are cleaned up).
 */
export class OciBlobs {
  constructor(private readonly store: OciStore) {}

  async find(repo: string, image: string, d: Digest): Promise<ItemRow | undefined> {
    const link = await this.store.file(repo, blobLinkPath(image, d));
    if (link) return link;
    const named = await this.store.filesNamed(repo, blobFileName(d));
    return named.find((r) => parentOf(r.path) === image);
  }

  /** Records `binary` as blob `d` of the image (in one transaction of its own). */
  async link(repo: string, image: string, d: Digest, binary: BinaryRef, user: string): Promise<ItemRow> {
    return this.store.transaction([binary], (trx) => this.store.putFile(trx, { repo, path: blobLinkPath(image, d), binary, mimeType: BLOB_MIME_TYPE, user }));
  }

  /**
   * Mounts a blob of another image (any repository the caller may read) into this one;
   * false when the source does not have it.
   */
  async mount(from: { repo: string; image: string }, to: { repo: string; image: string }, d: Digest, user: string): Promise<boolean> {
    const source = await this.find(from.repo, from.image, d);
    if (!source) return false;
    await this.link(to.repo, to.image, d, binaryOf(source), user);
    return true;
  }

  /** Removes the blob from the image (its link and the layer items listing it); false when it was not there. */
  async delete(repo: string, image: string, d: Digest): Promise<boolean> {
    const named = (await this.store.filesNamed(repo, blobFileName(d))).filter((r) => parentOf(r.path) === image);
    if (named.length === 0) return false;
    await this.store.transaction([], async (trx) => {
      for (const r of named) await this.store.remove(trx, repo, r.path === '' ? r.name : `${r.path}/${r.name}`);
    });
    return true;
  }
}
