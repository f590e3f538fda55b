/**
 * Core metadata (the `METADATA` file of a wheel, `PKG-INFO` of an sdist): RFC 822-style
 * headers, continuation lines starting with white space, then an optional body (the
 * description). Only the headers are read here.
 */

export interface CoreMetadata {
  metadataVersion?: string;
  name?: string;
  version?: string;
  summary?: string;
  requiresPython?: string;
  /** Every header, lower-cased key → values in order. */
  headers: Map<string, string[]>;
}

export function parseCoreMetadata(data: Buffer | string): CoreMetadata {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const headers = new Map<string, string[]>();
  let last: { key: string; values: string[] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) {
      if (last) last.values[last.values.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = headers.get(key) ?? [];
    values.push(value);
    headers.set(key, values);
    last = { key, values };
  }
  const one = (k: string) => headers.get(k)?.[0];
  return {
    metadataVersion: one('metadata-version'),
    name: one('name'),
    version: one('version'),
    summary: one('summary'),
    requiresPython: one('requires-python'),
    headers,
  };
}
