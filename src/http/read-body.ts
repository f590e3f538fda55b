import type { Readable } from 'node:stream';

/**
 * A request body into memory, at most `limit` bytes: past that, `tooLarge()` is thrown at once
 * (nothing more is read or kept). For small bodies only (queries, manifests, documents).
 */
export async function readBounded(body: Readable, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limit) throw tooLarge();
    parts.push(b);
  }
  return Buffer.concat(parts);
}
