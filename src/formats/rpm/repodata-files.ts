/**
 * The documents of `repodata/`: the opening and closing lines of primary, filelists and other,
 * gzip members, and `repomd.xml`.
 *
 * A data file is written as a series of gzip members (RFC 1952 allows it; zlib's `gzread`,
 * which libsolv reads repodata with, and Python's and Node's gunzip read on through them):
 * one member for the opening line (it carries `packages="N"`), one per chunk of packages and
 * one for the closing line. Changing one package re-compresses one chunk's member and copies
 * the others' bytes as they are.
 */
import { createHash } from 'node:crypto';
import { createGunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { escapeXml } from './package-xml.js';

const gzipAsync = promisify(gzip);

export type DataKind = 'primary' | 'filelists' | 'other';
export const DATA_KINDS: readonly DataKind[] = ['primary', 'filelists', 'other'];

const OPENING: Record<DataKind, (n: number) => string> = {
  primary: (n) => `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${n}">\n`,
  filelists: (n) => `<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${n}">\n`,
  other: (n) => `<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${n}">\n`,
};
const CLOSING: Record<DataKind, string> = { primary: '</metadata>\n', filelists: '</filelists>\n', other: '</otherdata>\n' };
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function opening(kind: DataKind, packages: number): string {
  return XML_DECLARATION + OPENING[kind](packages);
}

export function closing(kind: DataKind): string {
  return CLOSING[kind];
}

/** One gzip member (on the thread pool). Node writes mtime 0, so equal text gives equal bytes on every node. */
export function gzipMember(text: string | Buffer): Promise<Buffer> {
  return gzipAsync(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, { level: 6 });
}

/** SHA-256 and size of what a gzip file unpacks to (every member), without keeping it. */
export function openDigest(data: Buffer): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    gunzip.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    gunzip.on('error', reject);
    gunzip.on('end', () => resolve({ sha256: hash.digest('hex'), size }));
    gunzip.end(data);
  });
}

/** One file repomd.xml names. */
export interface RepomdData {
  type: string;
  /** Location relative to the metadata root (`repodata/…`). */
  href: string;
  sha256: string;
  size: number;
  /** The uncompressed file's checksum and size (compressed files only). */
  openSha256?: string;
  openSize?: number;
  timestamp: number;
}

export function renderRepomd(revision: number, data: readonly RepomdData[]): string {
  const blocks = data.map((d) => {
    const open = d.openSha256 === undefined ? '' : `    <open-checksum type="sha256">${d.openSha256}</open-checksum>\n`;
    const openSize = d.openSize === undefined ? '' : `    <open-size>${d.openSize}</open-size>\n`;
    return (
      `  <data type="${escapeXml(d.type)}">\n` +
      `    <checksum type="sha256">${d.sha256}</checksum>\n` +
      open +
      `    <location href="${escapeXml(d.href)}"/>\n` +
      `    <timestamp>${d.timestamp}</timestamp>\n` +
      `    <size>${d.size}</size>\n` +
      openSize +
      `  </data>\n`
    );
  });
  return (
    XML_DECLARATION +
    `<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n` +
    `  <revision>${revision}</revision>\n` +
    blocks.join('') +
    `</repomd>\n`
  );
}

/** The href of a data file named by its checksum, as createrepo_c names them. */
export function dataHref(sha256: string, name: string): string {
  return `repodata/${sha256}-${name}`;
}
