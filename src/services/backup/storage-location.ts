import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/** File systems that several hosts can mount at once. */
const SHARED_TYPES = new Set([
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'beegfs', 'ocfs2', 'gfs2', 'afs', 'pvfs2', 'orangefs',
  'fuse.glusterfs', 'fuse.sshfs', 'fuse.s3fs', 'fuse.gcsfuse', 'fuse.rclone', 'fuse.juicefs', 'fuse.cephfs', 'fuse.goofys', 'fuse.mountpoint-s3',
]);

export interface Location {
  /** The mount point and file-system type holding `dir`, when /proc/self/mountinfo says. */
  mountPoint?: string;
  fsType?: string;
  /** true: a network file system; false: a local one; undefined: unknown. */
  shared?: boolean;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Which mount holds `dir` (or its nearest existing parent), from `/proc/self/mountinfo`. */
export function storageLocation(dir: string, mountinfo = '/proc/self/mountinfo'): Location {
  if (!existsSync(mountinfo)) return {};
  let path = resolve(dir);
  while (!existsSync(path) && dirname(path) !== path) path = dirname(path);
  try {
    path = realpathSync(path);
  } catch {
    return {};
  }
  let best: { mountPoint: string; fsType: string } | undefined;
  for (const line of readFileSync(mountinfo, 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const mountPoint = unescape(left.split(' ')[4] ?? '');
    const fsType = right.split(' ')[0];
    const inside = path === mountPoint || mountPoint === '/' || path.startsWith(mountPoint + sep);
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, fsType };
  }
  return best ? { ...best, shared: SHARED_TYPES.has(best.fsType) } : {};
}

/**
 * The seed's warning for cloud-native HA: any node may run the backup, so the backup directory
 * should be one shared path; a local one leaves each backup on whichever node ran it.
 * Returns the warning to log, or undefined.
 */
export function backupDirWarning(opts: { haEnabled: boolean; configured?: string; dir: string }): string | undefined {
  if (!opts.haEnabled) return undefined;
  if (!opts.configured) {
    return `artifactory.ha.backup.dir is not set: backups go to ${opts.dir} on whichever node runs them; set it to a directory every node shares (NFS)`;
  }
  const where = storageLocation(opts.dir);
  if (where.shared === false) {
    return `artifactory.ha.backup.dir (${opts.dir}) is on a local ${where.fsType} file system (${where.mountPoint}): each backup stays on whichever node runs it; use a directory every node shares (NFS)`;
  }
  return undefined;
}
