/**
 * A body into memory, at most `limit` bytes: past that, `tooLarge()` is thrown at once (nothing
 * more is read or kept). For small bodies only (queries, manifests, documents, metadata).
 */
export async function readBounded(source: AsyncIterable<Uint8Array>, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
