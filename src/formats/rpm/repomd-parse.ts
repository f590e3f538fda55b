/**
 * Reading another repository's metadata (a remote's upstream, a virtual's members): the
 * files `repomd.xml` names, and the package entries of a primary/filelists/other document.
 */
import { ArcaError } from '../../core/errors.js';
import { parseXml } from '../../core/xml.js';
import type { DataKind } from './repodata-files.js';

export interface ListedFile {
  type: string;
  href: string;
  /** Checksum algorithm as repomd.xml names it (`sha256`, `sha`, `sha1`, `sha512`…). */
  checksumType: string;
  checksum: string;
  size?: number;
  timestamp?: number;
}

const OPTIONS = { ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name: string) => name === 'data' };

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return String((v as Record<string, unknown>)['#text'] ?? '');
  return String(v);
}

/** The files a repomd.xml names; throws BAD_REQUEST when it is not one. */
export function parseRepomd(data: Buffer, what: string): { revision: string; files: ListedFile[] } {
  const doc = parseXml(data, what, OPTIONS) as { repomd?: { revision?: unknown; data?: Array<Record<string, unknown>> } };
  if (!doc.repomd) throw new ArcaError('BAD_REQUEST', `The ${what} is not a repomd.xml`);
  const files: ListedFile[] = [];
  for (const d of doc.repomd.data ?? []) {
    const checksum = d.checksum as Record<string, unknown> | string | undefined;
    const location = d.location as Record<string, unknown> | undefined;
    const href = String(location?.['@href'] ?? '');
    if (!href) continue;
    files.push({
      type: String(d['@type'] ?? ''),
      href,
      checksumType: typeof checksum === 'object' ? String(checksum['@type'] ?? 'sha256') : 'sha256',
      checksum: text(checksum).trim().toLowerCase(),
      size: d.size === undefined ? undefined : Number(text(d.size)),
      timestamp: d.timestamp === undefined ? undefined : Number(text(d.timestamp)),
    });
  }
  return { revision: text(doc.repomd.revision), files };
}

const ROOTS: Record<DataKind, string> = { primary: 'metadata', filelists: 'filelists', other: 'otherdata' };

/**
 * The package entries of a data document (everything between its root element's opening tag
 * and closing tag) and how many packages it says it holds. Throws BAD_REQUEST when the root
 * element is not the expected one.
 */
export function packageEntries(kind: DataKind, doc: string, what: string): { count: number; body: string } {
  const root = ROOTS[kind];
  const open = doc.indexOf(`<${root}`);
  const openEnd = open < 0 ? -1 : doc.indexOf('>', open);
  const close = doc.lastIndexOf(`</${root}>`);
  if (open < 0 || openEnd < 0) {
    // An empty document may be written `<metadata … packages="0"/>`.
    throw new ArcaError('BAD_REQUEST', `The ${what} has no <${root}> element`);
  }
  const tag = doc.slice(open, openEnd + 1);
  const count = Number(/\spackages="(\d+)"/.exec(tag)?.[1] ?? '0');
  if (tag.endsWith('/>')) return { count: 0, body: '' };
  if (close < openEnd) throw new ArcaError('BAD_REQUEST', `The ${what} has no closing </${root}>`);
  let body = doc.slice(openEnd + 1, close);
  if (body.startsWith('\n')) body = body.slice(1);
  if (body.length > 0 && !body.endsWith('\n')) body += '\n';
  return { count, body };
}
