/**
 * Maven coordinates of a file about to be deployed, read in the browser: a POM's
 * groupId/artifactId/version/packaging (the parent's groupId and version when the POM inherits
 * them), or a jar's `META-INF/maven/{groupId}/{artifactId}/pom.properties` (read from the
 * zip's central directory, the entry inflated with DecompressionStream). Nothing is uploaded
 * to find them.
 */
export interface MavenCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
  packaging?: string;
  classifier?: string;
  /** The file's extension as deployed (pom, jar, war…). */
  extension: string;
}

function childText(parent: Element | null | undefined, name: string): string | undefined {
  if (!parent) return undefined;
  for (const c of Array.from(parent.children)) if (c.localName === name) return c.textContent?.trim() || undefined;
  return undefined;
}

function childElement(parent: Element, name: string): Element | undefined {
  return Array.from(parent.children).find((c) => c.localName === name);
}

/** The coordinates a POM declares; undefined when it is not a POM with all three. */
export function pomCoordinates(xml: string): Omit<MavenCoordinates, 'extension'> | undefined {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const project = doc.documentElement;
  if (!project || project.localName !== 'project' || doc.getElementsByTagName('parsererror').length > 0) return undefined;
  const parent = childElement(project, 'parent');
  const groupId = childText(project, 'groupId') ?? childText(parent, 'groupId');
  const artifactId = childText(project, 'artifactId');
  const version = childText(project, 'version') ?? childText(parent, 'version');
  if (!groupId || !artifactId || !version || /\$\{/.test(groupId + artifactId + version)) return undefined;
  return { groupId, artifactId, version, packaging: childText(project, 'packaging') ?? 'jar' };
}

/** `key=value` lines of a Java properties file (comments and blank lines skipped). */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(t);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const MAX_DIRECTORY = 8 * 1024 * 1024;
const MAX_ENTRY = 256 * 1024;

async function bytes(blob: Blob): Promise<DataView> {
  return new DataView(await blob.arrayBuffer());
}

async function inflate(data: Blob, method: number): Promise<string> {
  if (method === 0) return data.text();
  if (method !== 8) throw new Error(`zip method ${method}`);
  const stream = data.stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).text();
}

/** The text of the first zip entry whose name `wanted` accepts, or undefined (not a zip, no such entry, too big). */
export async function zipEntryText(file: Blob, wanted: (name: string) => boolean): Promise<string | undefined> {
  if (file.size < 22) return undefined;
  const tailStart = Math.max(0, file.size - 22 - 0xffff);
  const tail = await bytes(file.slice(tailStart));
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const dirSize = tail.getUint32(eocd + 12, true);
  const dirOffset = tail.getUint32(eocd + 16, true);
  if (dirSize > MAX_DIRECTORY || dirOffset + dirSize > file.size) return undefined;
  const dir = await bytes(file.slice(dirOffset, dirOffset + dirSize));
  const decoder = new TextDecoder();
  for (let p = 0; p + 46 <= dir.byteLength; ) {
    if (dir.getUint32(p, true) !== 0x02014b50) return undefined;
    const method = dir.getUint16(p + 10, true);
    const compressed = dir.getUint32(p + 20, true);
    const nameLen = dir.getUint16(p + 28, true);
    const extraLen = dir.getUint16(p + 30, true);
    const commentLen = dir.getUint16(p + 32, true);
    const local = dir.getUint32(p + 42, true);
    const name = decoder.decode(new Uint8Array(dir.buffer, dir.byteOffset + p + 46, nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (!wanted(name) || compressed > MAX_ENTRY) continue;
    const header = await bytes(file.slice(local, local + 30));
    if (header.getUint32(0, true) !== 0x04034b50) return undefined;
    const start = local + 30 + header.getUint16(26, true) + header.getUint16(28, true);
    return inflate(file.slice(start, start + compressed), method);
  }
  return undefined;
}

function extensionOf(name: string): string {
  const m = /\.(tar\.gz|tar\.bz2|[A-Za-z0-9]+)$/.exec(name);
  return m ? m[1]!.toLowerCase() : 'jar';
}

/** The classifier in `{artifactId}-{version}-{classifier}.{ext}`, when the file is named so. */
function classifierOf(name: string, c: { artifactId: string; version: string }, ext: string): string | undefined {
  const stem = `${c.artifactId}-${c.version}-`;
  if (!name.startsWith(stem) || !name.endsWith(`.${ext}`)) return undefined;
  return name.slice(stem.length, name.length - ext.length - 1) || undefined;
}

/** The coordinates of a `.pom` or of a jar-like file carrying `pom.properties` (or `pom.xml`); undefined otherwise. */
export async function detectMaven(file: File): Promise<MavenCoordinates | undefined> {
  const ext = extensionOf(file.name);
  try {
    if (ext === 'pom' || file.name === 'pom.xml') {
      if (file.size > MAX_ENTRY) return undefined;
      const c = pomCoordinates(await file.text());
      return c && { ...c, extension: 'pom' };
    }
    if (!['jar', 'war', 'ear', 'aar'].includes(ext)) return undefined;
    const props = await zipEntryText(file, (n) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(n));
    if (props) {
      const p = parseProperties(props);
      if (p.groupId && p.artifactId && p.version) {
        const c = { groupId: p.groupId, artifactId: p.artifactId, version: p.version };
        return { ...c, extension: ext, classifier: classifierOf(file.name, c, ext) };
      }
    }
    const pom = await zipEntryText(file, (n) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.xml$/.test(n));
    const c = pom ? pomCoordinates(pom) : undefined;
    return c && { ...c, extension: ext, classifier: classifierOf(file.name, c, ext) };
  } catch {
    return undefined;
  }
}

/** The standard layout path of coordinates: `g/r/o/u/p/artifact/version/artifact-version[-classifier].ext`. */
export function mavenPath(c: MavenCoordinates): string {
  return `${c.groupId.replace(/\./g, '/')}/${c.artifactId}/${c.version}/${c.artifactId}-${c.version}${c.classifier ? `-${c.classifier}` : ''}.${c.extension}`;
}
