import { Readable } from 'node:stream';
import { crc32, createGzip } from 'node:zlib';
import type { ContentStore } from '../../content/content-store.js';
import { ArcaError } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import { fullPathOf, getItem, type ItemRow } from '../../db/items.js';
import { subtreeOf } from '../../db/tree.js';
import { paxRecord, TAR_BLOCK, tarHeader } from '../../core/tar.js';
import type { Access } from '../../security/access.js';
import type { RepoConfig } from '../repositories.js';

/**
 * `GET /api/archive/download/{repo}/{path}?archiveType=zip|tar|tar.gz|tgz[&includeChecksumFiles=true]`:
 * a folder as one archive, written while it is sent (each file streamed from the binary store;
 * neither the archive nor a file is held in memory or written to a temp file). Only the files
 * the caller may read are in it. Bounded before the first byte is sent: a folder holding more
 * than `maxFiles` files (readable or not), or whose readable files (and checksum files) hold
 * more than `maxBytes`, is refused with a 400. The zip is written without compression (stored
 * entries with data descriptors, CRC-32 computed on the way) and without zip64, so `maxBytes`
 * is kept below 4 GiB; a tar writes long paths in pax records; tar.gz/tgz gzips the tar.
 */
export type DownloadArchiveType = 'zip' | 'tar' | 'tgz';

export interface FolderDownloadLimits {
  enabled: boolean;
  maxFiles: number;
  maxBytes: number;
}

export const DEFAULT_DOWNLOAD_LIMITS: FolderDownloadLimits = { enabled: true, maxFiles: 5000, maxBytes: 1024 ** 3 };
const ZIP_MAX = 0xffff_ffff - 64 * 1024 * 1024;

export function downloadArchiveType(value: string | undefined): DownloadArchiveType {
  const v = (value ?? '').toLowerCase();
  if (v === 'zip' || v === 'tar') return v;
  if (v === 'tar.gz' || v === 'tgz') return 'tgz';
  throw new ArcaError('BAD_REQUEST', `archiveType must be zip, tar, tar.gz or tgz, not '${value ?? ''}'`);
}

interface Member {
  /** Path inside the archive, below the downloaded folder. */
  name: string;
  size: number;
  modified: number;
  /** A stored file, or the text of a checksum file. */
  sha1?: string;
  text?: Buffer;
}

export interface FolderArchive {
  /** The file name for Content-Disposition. */
  fileName: string;
  contentType: string;
  files: number;
  bytes: number;
  body: Readable;
}

export class ArchiveDownloadService {
  constructor(
    private readonly database: Database,
    private readonly content: Pick<ContentStore, 'read'>,
    private readonly limits: FolderDownloadLimits = DEFAULT_DOWNLOAD_LIMITS,
  ) {}

  /** The seed's answer when the feature is off (before the repository is looked at). */
  requireEnabled(): void {
    if (!this.limits.enabled) throw new ArcaError('FORBIDDEN', 'Download Folder functionality is disabled.');
  }

  async folder(access: Access, repo: RepoConfig, path: string, type: DownloadArchiveType, checksumFiles: boolean): Promise<FolderArchive> {
    this.requireEnabled();
    if (repo.rclass === 'virtual') throw new ArcaError('BAD_REQUEST', `Download a folder of a local or remote repository, not of virtual repository '${repo.key}'`);
    const folder = path.replace(/\/+$/, '');
    await access.require('read', repo, folder);
    if (folder !== '') {
      const item = await getItem(this.database.db, repo.key, folder);
      if (!item) throw new ArcaError('NOT_FOUND', `'${repo.key}/${folder}' does not exist`);
      if (item.type !== 'folder') throw new ArcaError('BAD_REQUEST', `'${repo.key}/${folder}' is a file, not a folder`);
    }
    const members = await this.members(access, repo, folder, checksumFiles);
    if (type === 'zip' && members.length > 0xffff) throw new ArcaError('BAD_REQUEST', `A zip folder download holds at most ${0xffff} files`);
    const bytes = members.reduce((n, m) => n + m.size, 0);
    const max = type === 'zip' ? Math.min(this.limits.maxBytes, ZIP_MAX) : this.limits.maxBytes;
    if (bytes > max) throw new ArcaError('BAD_REQUEST', `The folder holds more than ${max} bytes, the limit of a folder download`);
    const base = folder === '' ? repo.key : folder.slice(folder.lastIndexOf('/') + 1);
    const ext = type === 'tgz' ? 'tar.gz' : type;
    const chunks = type === 'zip' ? this.zip(members) : this.tar(members);
    let body = Readable.from(chunks, { objectMode: false });
    if (type === 'tgz') {
      const gzip = createGzip({ level: 6 });
      body.on('error', (err) => gzip.destroy(err));
      body = body.pipe(gzip);
    }
    return { fileName: `${base}.${ext}`, contentType: type === 'zip' ? 'application/zip' : type === 'tar' ? 'application/x-tar' : 'application/gzip', files: members.length, bytes, body };
  }

  /** The readable files below `folder` (at most maxFiles files looked at), with checksum files when asked. */
  private async members(access: Access, repo: RepoConfig, folder: string, checksumFiles: boolean): Promise<Member[]> {
    const out: Member[] = [];
    // One bounded read: more than maxFiles files (readable or not) is a refusal, whatever the rest.
    const rows: ItemRow[] = await this.database.db
      .selectFrom('items')
      .selectAll()
      .where(subtreeOf(this.database.dialect, repo.key, folder))
      .where('type', '=', 'file')
      .limit(this.limits.maxFiles + 1)
      .execute();
    if (rows.length > this.limits.maxFiles) throw new ArcaError('BAD_REQUEST', `The folder holds more than ${this.limits.maxFiles} files, the limit of a folder download`);
    for (const r of rows) {
      const full = fullPathOf(r);
      if (!(await access.can('read', repo, full))) continue;
      const name = folder === '' ? full : full.slice(folder.length + 1);
      const modified = Number(r.modified);
      out.push({ name, size: Number(r.size), modified, sha1: r.sha1! });
      if (checksumFiles) {
        for (const [ext, sum] of [['sha1', r.sha1], ['md5', r.md5], ['sha256', r.sha256]] as const) {
          if (sum) out.push({ name: `${name}.${ext}`, size: sum.length, modified, text: Buffer.from(sum) });
        }
      }
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  /** One member's bytes; a stored file must hold exactly the size its item says. */
  private async *bytesOf(m: Member): AsyncGenerator<Buffer> {
    if (m.text) {
      yield m.text;
      return;
    }
    let n = 0;
    const stream = await this.content.read(m.sha1!);
    try {
      for await (const chunk of stream) {
        n += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } finally {
      stream.destroy();
    }
    if (n !== m.size) throw new Error(`'${m.name}' held ${n} bytes, its item says ${m.size}`);
  }

  private async *tar(members: Member[]): AsyncGenerator<Buffer> {
    for (const m of members) {
      const name = Buffer.byteLength(m.name) > 100 ? `long/${m.name.slice(-80).replace(/^[^/]*\//, '')}` : m.name;
      if (name !== m.name) yield paxRecord(m.name, m.modified);
      yield tarHeader(name, m.size, m.modified);
      yield* this.bytesOf(m);
      const pad = (TAR_BLOCK - (m.size % TAR_BLOCK)) % TAR_BLOCK;
      if (pad > 0) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(2 * TAR_BLOCK);
  }

  private async *zip(members: Member[]): AsyncGenerator<Buffer> {
    const central: Buffer[] = [];
    let offset = 0;
    for (const m of members) {
      const name = Buffer.from(m.name);
      const { time, date } = dosTime(m.modified);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0x0808, 6); // data descriptor follows, UTF-8 name
      local.writeUInt16LE(0, 8); // stored
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(m.size, 18);
      local.writeUInt32LE(m.size, 22);
      local.writeUInt16LE(name.length, 26);
      yield local;
      yield name;
      let crc = 0;
      for await (const chunk of this.bytesOf(m)) {
        crc = crc32(chunk, crc);
        yield chunk;
      }
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc >>> 0, 4);
      descriptor.writeUInt32LE(m.size, 8);
      descriptor.writeUInt32LE(m.size, 12);
      yield descriptor;
      const dir = Buffer.alloc(46);
      dir.writeUInt32LE(0x02014b50, 0);
      dir.writeUInt16LE(0x031e, 4); // made by unix, 3.0
      dir.writeUInt16LE(20, 6);
      dir.writeUInt16LE(0x0808, 8);
      dir.writeUInt16LE(time, 12);
      dir.writeUInt16LE(date, 14);
      dir.writeUInt32LE(crc >>> 0, 16);
      dir.writeUInt32LE(m.size, 20);
      dir.writeUInt32LE(m.size, 24);
      dir.writeUInt16LE(name.length, 28);
      dir.writeUInt32LE((0o100644 << 16) >>> 0, 38);
      dir.writeUInt32LE(offset, 42);
      central.push(dir, name);
      offset += 30 + name.length + m.size + 16;
    }
    const dirBytes = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(members.length, 8);
    end.writeUInt16LE(members.length, 10);
    end.writeUInt32LE(dirBytes.length, 12);
    end.writeUInt32LE(offset, 16);
    yield dirBytes;
    yield end;
  }
}

function dosTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
