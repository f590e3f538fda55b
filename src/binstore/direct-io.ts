import { constants } from 'node:fs';
import { open, statfs, type FileHandle } from 'node:fs/promises';

/**
 * O_DIRECT for staged uploads: the bytes go from Arca's aligned batch buffers to the disk
 * without the page cache. On a busy node that saves the kernel's copy into the cache and the
 * later write-back (in a VM, also the first touch of every fresh page-cache page, which can
 * cost more than hashing the bytes), and it leaves the closing fsync almost nothing to do.
 *
 * Only local file systems whose O_DIRECT is known to be plain and fast qualify: on NFS it
 * turns every write into a synchronous round trip to the server, tmpfs refuses it, and
 * overlay or FUSE file systems differ. Offsets, lengths and buffer addresses must be
 * multiples of the device's logical block size; DIRECT_ALIGN (4096) covers 512-byte and
 * 4 KiB devices alike.
 */
export const DIRECT_ALIGN = 4096;

/** statfs f_type magic numbers of the file systems direct I/O is used on. */
const DIRECT_FILE_SYSTEMS = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0xf2f52010, // f2fs
]);

const known = new Map<string, Promise<boolean>>();

/** Bytes of large staged uploads written by this process, by how (the metric arca_binstore_staged_bytes_total). */
const written = { direct: 0, buffered: 0 };

/** Counts bytes of a large upload written with O_DIRECT or through the page cache. */
export function countStaged(how: 'direct' | 'buffered', bytes: number): void {
  written[how] += bytes;
}

/** The bytes counted so far by `countStaged`. */
export function stagedBytes(): { direct: number; buffered: number } {
  return { ...written };
}

/** Whether files in `dir` are on a file system that direct I/O is used on (asked once per directory). */
export function directIoSupported(dir: string): Promise<boolean> {
  let answer = known.get(dir);
  if (!answer) {
    answer = statfs(dir).then(
      (st) => DIRECT_FILE_SYSTEMS.has(Number(st.type)),
      () => false,
    );
    known.set(dir, answer);
  }
  return answer;
}

/** Remembers that `dir` refused direct I/O after all (an open or a write failed with EINVAL). */
export function directIoRefused(dir: string): void {
  known.set(dir, Promise.resolve(false));
}

/** Opens an existing file for O_DIRECT writes; undefined when the file system refuses. */
export async function openDirect(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_WRONLY | constants.O_DIRECT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw err;
  }
}

/** `n` rounded up to a multiple of DIRECT_ALIGN. */
export function alignUp(n: number): number {
  return Math.ceil(n / DIRECT_ALIGN) * DIRECT_ALIGN;
}
