import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ContentStore } from '../../content/content-store.js';
import type { ByteRange } from '../../binstore/binary-provider.js';

/**
 * The bytes of stored files, as the edge sends them: small files whole from memory, large
 * ones from an open file or a stream, a byte range, or a signed URL of an object store that
 * serves the file itself. The route chooses the shape of the answer; this reads.
 */
export class FileBodies {
  constructor(private readonly content: ContentStore) {}

  /** Files up to this size are read whole into memory (and cached). */
  get smallFileLimit(): number {
    return this.content.smallFileLimit;
  }

  /** True when the provider may answer a download with a URL of its own (then every download asks it). */
  get directDownloads(): boolean {
    return typeof this.content.provider.downloadUrl === 'function';
  }

  readSmall(sha1: string): Promise<Buffer> {
    return this.content.readSmall(sha1);
  }

  read(sha1: string, range?: ByteRange): Promise<Readable> {
    return this.content.read(sha1, range);
  }

  /** An open file of the binary when the provider keeps it on a local disk (sent with sendfile-like reads). */
  openFile(sha1: string): Promise<FileHandle | undefined> {
    return this.content.openFile(sha1);
  }

  /** A URL the client may download the whole file from directly (presigned), when the provider gives one. */
  async downloadUrl(sha1: string, size: number): Promise<string | undefined> {
    return this.content.provider.downloadUrl?.(sha1, size);
  }
}
