import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backupDirWarning, storageLocation } from './storage-location.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-mountinfo-'));
const mountinfo = (mounts: [string, string][]) => {
  const file = join(dir, `mountinfo-${Math.random()}`);
  writeFileSync(file, mounts.map(([point, type], i) => `${20 + i} 1 0:${i} / ${point.replace(/ /g, '\\040')} rw,relatime shared:1 - ${type} dev${i} rw`).join('\n') + '\n');
  return file;
};

describe('backup directory location', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the innermost mount holding a directory, existing or not, and tells network file systems from local ones', () => {
    mkdirSync(join(dir, 'local disk'));
    const info = mountinfo([['/', 'ext4'], [dir, 'nfs4'], [join(dir, 'local disk'), 'xfs']]);
    expect(storageLocation(join(dir, 'backups', 'not-yet'), info)).toEqual({ mountPoint: dir, fsType: 'nfs4', shared: true });
    expect(storageLocation(join(dir, 'local disk', 'x'), info)).toMatchObject({ fsType: 'xfs', shared: false });
    expect(storageLocation('/somewhere/else', info)).toMatchObject({ mountPoint: '/', fsType: 'ext4', shared: false });
    expect(storageLocation(dir, join(dir, 'no-such-file'))).toEqual({});
  });

  it('warns in HA mode when the backup directory is not set or is local, as the seed advises', () => {
    expect(backupDirWarning({ haEnabled: false, dir: '/home/arca/backup' })).toBeUndefined();
    expect(backupDirWarning({ haEnabled: true, dir: '/home/arca/backup' })).toMatch(/artifactory.ha.backup.dir is not set: backups go to \/home\/arca\/backup on whichever node runs them/);
    // The temp directory of the test machine is on a local file system (or unknown: no warning then).
    const warning = backupDirWarning({ haEnabled: true, configured: dir, dir });
    if (storageLocation(dir).shared === false) expect(warning).toMatch(/is on a local .* file system/);
    else expect(warning).toBeUndefined();
  });
});
