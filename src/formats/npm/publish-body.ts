/**
 * Receives the body of a packument PUT (`npm publish`, `npm deprecate`) as it streams in:
 * the tarball in `_attachments.<name>.data` is base64-decoded, hashed and handed to staging
 * chunk by chunk while its package.json is read from it (tarball.ts, bounded
 * decompression), and the rest of the document is collected within a small bound and parsed
 * at the end. Nothing of the tarball is held in memory.
 */
import { createHash } from 'node:crypto';
import { ArcaError } from '../../core/errors.js';
import { Base64Decoder } from './base64-decoder.js';
import type { TarballDigests } from './integrity.js';
import { PublishBodyScanner } from './publish-scanner.js';
import { NPM_TARBALL_LIMITS, TarballManifestReader } from './tarball.js';
import type { InflateLimits } from '../../core/bounded-inflate.js';

export interface PublishBodyLimits {
  /** Most bytes of the whole body. */
  maxBodyBytes: number;
  /** Most bytes besides the attachment data (the packument, readme included). */
  maxDocumentBytes: number;
  /** Deepest nesting of the document. */
  maxDepth: number;
  /** How far the tarball may unpack. */
  tarball: InflateLimits;
}

export const PUBLISH_LIMITS: PublishBodyLimits = {
  maxBodyBytes: 256 * 1024 * 1024,
  maxDocumentBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  tarball: NPM_TARBALL_LIMITS,
};

/** The tarball as it arrived: where it was staged, and what was learnt while it streamed. */
export interface ReceivedTarball<S> {
  /** The attachment's name (`pkg-1.0.0.tgz`). */
  key: string;
  staged: S;
  size: number;
  digests: TarballDigests;
  /** The tarball's root package.json. */
  manifest: Record<string, unknown>;
}

export interface ReceivedPublish<S> {
  /** The parsed document; the attachment's `data` is `""` in it. */
  doc: unknown;
  /** The attachment, when the body had one. */
  tarball?: ReceivedTarball<S>;
}

/** A staged binary as the content store gives it (only what this module needs). */
export interface Staged {
  sha1: string;
  sha256: string;
  size: number;
  discard(): Promise<void>;
}

const bad = (message: string) => new ArcaError('BAD_REQUEST', message);

/**
 * Reads a packument PUT body. `stage` consumes the source it is given (the decoded tarball)
 * and returns the staged binary; it is called once, and the source it reads also reads the
 * rest of the body. A refused body throws (BAD_REQUEST, PAYLOAD_TOO_LARGE) after whatever was
 * staged has been discarded.
 */
export async function receivePublishBody<S extends Staged>(
  body: AsyncIterable<Uint8Array>,
  stage: (source: AsyncIterable<Buffer>) => Promise<S>,
  limits: PublishBodyLimits = PUBLISH_LIMITS,
): Promise<ReceivedPublish<S>> {
  let key: string | undefined;
  let decoder: Base64Decoder | undefined;
  let reader: TarballManifestReader | undefined;
  let ended = false;
  let manifest: Record<string, unknown> | undefined;
  const sha384 = createHash('sha384');
  const sha512 = createHash('sha512');
  let size = 0;
  let pending: Buffer[] = [];
  const scanner = new PublishBodyScanner(
    {
      start(name) {
        if (key !== undefined) throw bad('A publish carries exactly one attachment (the package tarball)');
        key = name;
        decoder = new Base64Decoder(`Attachment '${name}'`);
        reader = new TarballManifestReader(limits.tarball);
      },
      text(piece) {
        for (const b of decoder!.push(piece)) pending.push(b);
      },
      end() {
        decoder!.end();
        ended = true;
      },
    },
    { maxDocumentBytes: limits.maxDocumentBytes, maxDepth: limits.maxDepth },
  );

  let bodyBytes = 0;
  async function* source(): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      bodyBytes += chunk.length;
      if (bodyBytes > limits.maxBodyBytes) throw new ArcaError('PAYLOAD_TOO_LARGE', `The publish body is larger than ${limits.maxBodyBytes} bytes`);
      scanner.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      const decoded = pending;
      pending = [];
      for (const b of decoded) {
        size += b.length;
        sha384.update(b);
        sha512.update(b);
        await reader!.write(b);
        yield b;
      }
      if (ended && reader && manifest === undefined) manifest = await reader.finish();
    }
  }

  let staged: S;
  try {
    staged = await stage(source());
  } catch (err) {
    reader?.destroy();
    throw err;
  }
  try {
    const docBytes = scanner.finish();
    let doc: unknown;
    try {
      doc = JSON.parse(docBytes.toString('utf8'));
    } catch (err) {
      throw bad(`Invalid JSON body: ${(err as Error).message}`);
    }
    if (key === undefined) {
      await staged.discard();
      return { doc };
    }
    if (size === 0) throw bad(`Attachment '${key}' is empty`);
    const digests: TarballDigests = {
      sha1: Buffer.from(staged.sha1, 'hex').toString('base64'),
      sha256: Buffer.from(staged.sha256, 'hex').toString('base64'),
      sha384: sha384.digest('base64'),
      sha512: sha512.digest('base64'),
    };
    return { doc, tarball: { key, staged, size, digests, manifest: manifest! } };
  } catch (err) {
    await staged.discard();
    throw err;
  }
}
