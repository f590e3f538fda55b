/**
 * The `Release` file of a distribution (Debian's repository format): what apt checks every
 * index against. Rendered from the distribution's state (package-index.ts).
 */

/** Size and checksums of one index file, as Release lists them. */
export interface FileSums {
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
}

export interface ReleaseInput {
  dist: string;
  /** Origin and Label (the repository key by default). */
  origin: string;
  label: string;
  date: Date;
  /** Relative path (`main/binary-amd64/Packages.gz`) → sums, in the order to list them. */
  files: Array<[string, FileSums]>;
  components: string[];
  architectures: string[];
  description?: string;
}

/** RFC 2822 date in UTC, as dpkg tools write it. */
export function releaseDate(d: Date): string {
  return d.toUTCString().replace(/GMT$/, 'UTC');
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim();
}

export function renderRelease(r: ReleaseInput): string {
  const width = Math.max(1, ...r.files.map(([, s]) => String(s.size).length));
  const list = (pick: (s: FileSums) => string) => r.files.map(([name, s]) => ` ${pick(s)} ${String(s.size).padStart(width)} ${name}`).join('\n');
  const lines = [
    `Origin: ${oneLine(r.origin)}`,
    `Label: ${oneLine(r.label)}`,
    `Suite: ${r.dist}`,
    `Codename: ${r.dist}`,
    `Date: ${releaseDate(r.date)}`,
    `Architectures: ${r.architectures.join(' ')}`,
    `Components: ${r.components.join(' ')}`,
    ...(r.description ? [`Description: ${oneLine(r.description)}`] : []),
    'Acquire-By-Hash: yes',
    `MD5Sum:\n${list((s) => s.md5)}`,
    `SHA1:\n${list((s) => s.sha1)}`,
    `SHA256:\n${list((s) => s.sha256)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The files a Release lists with their SHA256 and size (for checking indexes fetched from an upstream). */
export function releaseFiles(text: string): Map<string, { size: number; sha256?: string; sha1?: string; md5?: string }> {
  const out = new Map<string, { size: number; sha256?: string; sha1?: string; md5?: string }>();
  let section: 'md5' | 'sha1' | 'sha256' | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      const name = line.split(':')[0].toLowerCase();
      section = name === 'md5sum' ? 'md5' : name === 'sha1' ? 'sha1' : name === 'sha256' ? 'sha256' : undefined;
      continue;
    }
    if (!section) continue;
    const m = /^\s+([0-9a-fA-F]+)\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const entry = out.get(m[3]) ?? { size: Number(m[2]) };
    entry[section] = m[1].toLowerCase();
    out.set(m[3], entry);
  }
  return out;
}

/** A field of the Release paragraph (first line only). */
export function releaseField(text: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi');
  return re.exec(text)?.[1].trim();
}

/**
 * Merges Packages texts (in order of precedence): the first stanza of a package, version and
 * architecture wins.
 */
export function mergePackages(texts: Buffer[]): Buffer {
  const seen = new Set<string>();
  const stanzas: string[] = [];
  for (const text of texts) {
    for (const s of text.toString('utf8').split(/\n\s*\n/)) {
      if (s.trim() === '') continue;
      const id = ['Package', 'Version', 'Architecture'].map((f) => new RegExp(`^${f}:[ \\t]*(.*)$`, 'm').exec(s)?.[1] ?? '').join('\0');
      if (seen.has(id)) continue;
      seen.add(id);
      stanzas.push(s.replace(/\n+$/, ''));
    }
  }
  return Buffer.from(stanzas.length === 0 ? '' : `${stanzas.join('\n\n')}\n`, 'utf8');
}

/** The signed text of a cleartext-signed message (unchecked: no keys configured). */
export function clearsignedText(message: string): string {
  const start = message.indexOf('-----BEGIN PGP SIGNED MESSAGE-----');
  if (start < 0) return message;
  const afterHeaders = message.indexOf('\n\n', start);
  const end = message.indexOf('\n-----BEGIN PGP SIGNATURE-----', afterHeaders);
  if (afterHeaders < 0 || end < 0) return message;
  return `${message
    .slice(afterHeaders + 2, end)
    .split('\n')
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n')}\n`;
}
