/**
 * The download URL of a crate from a registry's `dl` setting: with none of the markers
 * (`{crate}`, `{version}`, `{prefix}`, `{lowerprefix}`, `{sha256-checksum}`), cargo appends
 * `/{crate}/{version}/download`; with any, it replaces them.
 */
const MARKERS = ['{crate}', '{version}', '{prefix}', '{lowerprefix}', '{sha256-checksum}'];

/** The prefix of a crate name as the `{prefix}` marker spells it (the name's case kept). */
function prefixOf(name: string): string {
  if (name.length === 1) return '1';
  if (name.length === 2) return '2';
  if (name.length === 3) return `3/${name[0]}`;
  return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
}

export function hasChecksumMarker(dl: string): boolean {
  return dl.includes('{sha256-checksum}');
}

export function downloadUrl(dl: string, name: string, version: string, cksum = ''): string {
  if (!MARKERS.some((m) => dl.includes(m))) return `${dl.replace(/\/+$/, '')}/${encodeURIComponent(name)}/${encodeURIComponent(version)}/download`;
  return dl
    .replaceAll('{crate}', encodeURIComponent(name))
    .replaceAll('{version}', encodeURIComponent(version))
    .replaceAll('{prefix}', prefixOf(name))
    .replaceAll('{lowerprefix}', prefixOf(name.toLowerCase()))
    .replaceAll('{sha256-checksum}', cksum);
}
