import { createHash } from 'node:crypto';
import type { ContentStore } from '../../content/content-store.js';
import { LruCache } from '../../core/lru-cache.js';
import type { ItemRow } from '../../db/items.js';
import type { ChecksumFileAlgorithm } from '../../formats/format-handler.js';

/** SHA-512 checksums remembered per node (they are computed by streaming the whole binary). */
const SHA512_ENTRIES = 20_000;

/**
 * The content of checksum files (`x.jar.sha1`) for files that have none stored: the stored
 * checksums of a binary, and a SHA-512 computed on demand and remembered.
 */
export class ChecksumFiles {
  private readonly sha512 = new LruCache<string>(SHA512_ENTRIES);

  constructor(private readonly content: Pick<ContentStore, 'read'>) {}

  /** The checksum of a stored binary. */
  async ofItem(item: ItemRow, algorithm: ChecksumFileAlgorithm): Promise<string> {
    if (algorithm === 'sha1') return item.sha1!;
    if (algorithm === 'md5' && item.md5) return item.md5;
    if (algorithm === 'sha256' && item.sha256) return item.sha256;
    const known = algorithm === 'sha512' ? this.sha512.get(item.sha1!) : undefined;
    if (known) return known;
    const hash = createHash(algorithm);
    for await (const chunk of await this.content.read(item.sha1!)) hash.update(chunk as Buffer);
    const hex = hash.digest('hex');
    if (algorithm === 'sha512') this.sha512.set(item.sha1!, hex);
    return hex;
  }

  /** The checksum of content made on the fly (merged metadata). */
  ofBytes(data: Buffer, algorithm: ChecksumFileAlgorithm): string {
    return createHash(algorithm).update(data).digest('hex');
  }
}
