import { createHash, randomUUID } from 'node:crypto';
import type { ItemRow } from '../../../db/items.js';
import { blobLinkPath, isUploadId, uploadFolder, uploadPartPath } from '../layout.js';
import { OciError } from '../oci-errors.js';
import type { Digest } from '../reference.js';
import { BLOB_MIME_TYPE } from './blobs.js';
import { binaryOf, type BinaryRef, type OciStore } from './oci-store.js';

/** Where a blob upload lives: repository, image and session id. */
export interface UploadRef {
  repo: string;
  image: string;
  uuid: string;
}

export interface ChunkOptions {
  /** `Content-Range: start-end` of the request (inclusive), when the client sent one. */
  range?: { start: number; end: number };
  user: string;
  signal?: AbortSignal;
}

const PART_MIME_TYPE = 'application/octet-stream';

/** Wraps a stream so the digest of an algorithm the content store does not compute (sha512) is taken on the way. */
function hashing(source: AsyncIterable<Uint8Array>, algorithm: string): { stream: AsyncIterable<Uint8Array>; hex(): string } {
  // sha256 comes with the staged binary: no second pass over the bytes.
  if (algorithm === 'sha256') return { stream: source, hex: () => '' };
  const hash = createHash(algorithm);
  let hex: string | undefined;
  async function* pass() {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
    hex = hash.digest('hex');
  }
  return { stream: pass(), hex: () => hex ?? '' };
}

function mismatch(d: Digest, actual: string): OciError {
  return new OciError('DIGEST_INVALID', `The upload's ${d.algorithm} is ${actual}, not the digest given (${d.text}); nothing was stored`, {
    detail: { expected: d.text, actual: `${d.algorithm}:${actual}` },
  });
}

/**
 * Blob uploads (OCI Distribution Spec, "Pushing blobs"): monolithic (one POST), POST then
 * PUT, and chunked (POST, PATCH…, PUT). A session is a folder of the item tree
 * (`{image}/_uploads/{uuid}`) holding one item per received chunk, each chunk a binary of the
 * shared content store: every node sees the same session, so a chunked upload started
 * through one node continues through another. Closing a one-chunk session (what docker,
 * podman and skopeo send) links the chunk's binary as the blob without copying it. Blobs are
 * staged without an MD5 (registry clients never ask for one; it costs more than SHA-1 and
 * SHA-256 together): the content store's backfill adds it once the push is over.
 */
export class OciUploads {
  constructor(private readonly store: OciStore) {}

  async start(repo: string, image: string, user: string): Promise<UploadRef> {
    const uuid = randomUUID();
    await this.store.transaction([], (trx) => this.store.ensureFolder(trx, repo, uploadFolder(image, uuid), user));
    return { repo, image, uuid };
  }

  /** The chunks received so far, in order, and the next expected offset; BLOB_UPLOAD_UNKNOWN when there is no session. */
  async status(u: UploadRef): Promise<{ parts: ItemRow[]; offset: number }> {
    const folder = isUploadId(u.uuid) ? await this.store.folder(u.repo, uploadFolder(u.image, u.uuid)) : undefined;
    if (!folder) throw new OciError('BLOB_UPLOAD_UNKNOWN', `No blob upload '${u.uuid}' in '${u.repo}/${u.image}'`, { detail: { uuid: u.uuid } });
    const parts = (await this.store.children(u.repo, uploadFolder(u.image, u.uuid))).filter((r) => r.type === 'file');
    return { parts, offset: parts.reduce((n, p) => n + Number(p.size), 0) };
  }

  /** Appends a chunk (PATCH, or the body of the closing PUT); returns the new offset. */
  async append(u: UploadRef, body: AsyncIterable<Uint8Array>, opts: ChunkOptions): Promise<number> {
    const { offset } = await this.status(u);
    const r = opts.range;
    if (r && r.start !== offset) {
      throw new OciError('BLOB_UPLOAD_INVALID', `Chunks must arrive in order: this one starts at ${r.start}, the upload has ${offset} bytes`, {
        code: 'RANGE_NOT_SATISFIABLE',
        detail: { offset },
      });
    }
    const staged = await this.store.content.stage(body, { signal: opts.signal, md5: false });
    if (staged.size === 0) {
      await staged.discard();
      return offset;
    }
    if (r && r.end - r.start + 1 !== staged.size) {
      await staged.discard();
      throw new OciError('SIZE_INVALID', `Content-Range ${r.start}-${r.end} announces ${r.end - r.start + 1} bytes, the chunk has ${staged.size}`, {
        code: 'RANGE_NOT_SATISFIABLE',
        detail: { offset },
      });
    }
    return this.store.transaction(
      [],
      async (trx) => {
        const folder = await this.store.getItem(trx, u.repo, uploadFolder(u.image, u.uuid));
        if (folder?.type !== 'folder') throw new OciError('BLOB_UPLOAD_UNKNOWN', `The blob upload '${u.uuid}' was cancelled or completed`);
        const parts = await this.store.children(u.repo, uploadFolder(u.image, u.uuid), trx);
        const now = parts.reduce((n, p) => n + Number(p.size), 0);
        if (now !== offset) {
          throw new OciError('BLOB_UPLOAD_INVALID', `Another chunk of upload '${u.uuid}' arrived at the same time`, { code: 'RANGE_NOT_SATISFIABLE', detail: { offset: now } });
        }
        await this.store.putFile(trx, { repo: u.repo, path: uploadPartPath(u.image, u.uuid, offset), binary: staged, mimeType: PART_MIME_TYPE, user: opts.user });
        return offset + staged.size;
      },
      staged,
    );
  }

  /** Closes a session (PUT ?digest=): the chunks become blob `d` of the image, or DIGEST_INVALID and the session is cancelled. */
  async finish(u: UploadRef, d: Digest, finalChunk: AsyncIterable<Uint8Array> | undefined, opts: ChunkOptions): Promise<void> {
    if (finalChunk) await this.append(u, finalChunk, opts);
    const { parts } = await this.status(u);
    const folder = uploadFolder(u.image, u.uuid);
    if (parts.length === 1 && d.algorithm === 'sha256') {
      const part = parts[0];
      if (part.sha256 !== d.hex) {
        await this.cancel(u).catch(() => undefined);
        throw mismatch(d, part.sha256 ?? '');
      }
      await this.linkAndClose(u, d, binaryOf(part), folder, opts.user);
      return;
    }
    const h = hashing(this.concat(parts), d.algorithm);
    const staged = await this.store.content.stage(h.stream, { signal: opts.signal, md5: false });
    const actual = d.algorithm === 'sha256' ? staged.sha256 : h.hex();
    if (actual !== d.hex) {
      await staged.discard();
      await this.cancel(u).catch(() => undefined);
      throw mismatch(d, actual);
    }
    await this.store.transaction(
      [],
      async (trx) => {
        await this.store.putFile(trx, { repo: u.repo, path: blobLinkPath(u.image, d), binary: staged, mimeType: BLOB_MIME_TYPE, user: opts.user });
        await this.store.remove(trx, u.repo, folder);
      },
      staged,
    );
  }

  /** A whole blob in one request (POST ?digest=): verified, then linked; nothing stays on a mismatch. */
  async monolithic(repo: string, image: string, d: Digest, body: AsyncIterable<Uint8Array>, opts: ChunkOptions): Promise<void> {
    const h = hashing(body, d.algorithm);
    const staged = await this.store.content.stage(h.stream, { signal: opts.signal, md5: false });
    const actual = d.algorithm === 'sha256' ? staged.sha256 : h.hex();
    if (actual !== d.hex) {
      await staged.discard();
      throw mismatch(d, actual);
    }
    await this.store.transaction(
      [],
      (trx) => this.store.putFile(trx, { repo, path: blobLinkPath(image, d), binary: staged, mimeType: BLOB_MIME_TYPE, user: opts.user }),
      staged,
    );
  }

  /** Cancels a session (DELETE); BLOB_UPLOAD_UNKNOWN when there is none. */
  async cancel(u: UploadRef): Promise<void> {
    await this.status(u);
    await this.store.transaction([], (trx) => this.store.remove(trx, u.repo, uploadFolder(u.image, u.uuid)));
  }

  private async linkAndClose(u: UploadRef, d: Digest, binary: BinaryRef, folder: string, user: string): Promise<void> {
    await this.store.transaction([binary], async (trx) => {
      await this.store.putFile(trx, { repo: u.repo, path: blobLinkPath(u.image, d), binary, mimeType: BLOB_MIME_TYPE, user });
      await this.store.remove(trx, u.repo, folder);
    });
  }

  private async *concat(parts: ItemRow[]): AsyncIterable<Uint8Array> {
    for (const p of parts) {
      for await (const chunk of await this.store.content.read(p.sha1!)) yield chunk as Uint8Array;
    }
  }
}
