/** Content types by file extension (a small subset of mimetypes.xml, enough for the formats Arca serves). */
const TYPES: Record<string, string> = {
  txt: 'text/plain', log: 'text/plain', md: 'text/markdown', csv: 'text/csv', html: 'text/html', htm: 'text/html',
  css: 'text/css', js: 'application/javascript', mjs: 'application/javascript', json: 'application/json',
  xml: 'application/xml', pom: 'application/x-maven-pom+xml', yaml: 'application/x-yaml', yml: 'application/x-yaml',
  properties: 'text/x-java-properties', sha1: 'text/plain', sha256: 'text/plain', md5: 'text/plain', asc: 'text/plain',
  jar: 'application/java-archive', war: 'application/java-archive', ear: 'application/java-archive',
  zip: 'application/zip', gz: 'application/x-gzip', tgz: 'application/x-gzip', tar: 'application/x-tar',
  bz2: 'application/x-bzip2', xz: 'application/x-xz', '7z': 'application/x-7z-compressed',
  whl: 'application/zip', egg: 'application/zip', nupkg: 'application/zip', gem: 'application/octet-stream',
  rpm: 'application/x-rpm', deb: 'application/x-debian-package', iso: 'application/x-iso9660-image',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml', ico: 'image/x-icon',
  pdf: 'application/pdf', wasm: 'application/wasm',
};

export function mimeTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return 'application/octet-stream';
  const ext = name.slice(dot + 1).toLowerCase();
  // Own keys only: a file named `x.constructor` or `x.__proto__` is not Object's.
  return Object.hasOwn(TYPES, ext) ? TYPES[ext] : 'application/octet-stream';
}
