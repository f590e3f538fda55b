import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticServer } from '../../../test/helpers/rpm-dnf.js';
import { buildRpm, hasRpmbuild } from '../../../test/helpers/rpm-packages.js';
import { startTestNode, type TestNode } from '../../node/testing/test-node.js';

/** A remote RPM repository over a createrepo_c repository served on 127.0.0.1, in process. */
describe.skipIf(!hasRpmbuild())('remote RPM repositories', () => {
  let node: TestNode;
  let upstream: { url: string; server: Server; requests: string[] };
  const mirror = mkdtempSync(join(tmpdir(), 'arca-rpm-remote-'));
  const repodata = (suffix: string) => readdirSync(join(mirror, 'repodata')).find((f) => f.endsWith(suffix))!;

  const createRemote = async (key: string) => {
    const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { key, rclass: 'remote', packageType: 'rpm', url: upstream.url } });
    expect(res.statusCode, res.body).toBe(200);
  };

  beforeAll(async () => {
    const pkg = buildRpm(join(mirror, 'build'), { name: 'up', version: '1.0' });
    mkdirSync(join(mirror, 'Packages'), { recursive: true });
    writeFileSync(join(mirror, 'Packages', pkg.file), pkg.data);
    execFileSync('createrepo_c', ['--quiet', '--general-compress-type=gz', '--excludes', 'build/*', mirror]);
    upstream = await staticServer(mirror);
    node = await startTestNode();
  });
  afterAll(async () => {
    upstream?.server.close();
    await node?.close();
  });

  it("serves the upstream's repomd.xml and data files, and its packages", async () => {
    await createRemote('rr-ok');
    const repomd = await node.request({ method: 'GET', url: '/artifactory/rr-ok/repodata/repomd.xml' });
    expect(repomd.statusCode).toBe(200);
    expect(repomd.body).toBe(readFileSync(join(mirror, 'repodata', 'repomd.xml'), 'utf8'));
    const primary = await node.request({ method: 'GET', url: `/artifactory/rr-ok/repodata/${repodata('-primary.xml.gz')}` });
    expect(primary.statusCode).toBe(200);
    expect(primary.rawPayload.equals(readFileSync(join(mirror, 'repodata', repodata('-primary.xml.gz'))))).toBe(true);
    const pkg = await node.request({ method: 'GET', url: '/artifactory/rr-ok/Packages/up-1.0-1.noarch.rpm' });
    expect(pkg.statusCode).toBe(200);
  });

  it('refuses (502) and does not keep a data file whose checksum is not the one repomd.xml lists', async () => {
    await createRemote('rr-bad');
    const name = repodata('-other.xml.gz');
    const good = readFileSync(join(mirror, 'repodata', name));
    writeFileSync(join(mirror, 'repodata', name), gzipSync('<otherdata packages="0"/>'));
    try {
      expect((await node.request({ method: 'GET', url: '/artifactory/rr-bad/repodata/repomd.xml' })).statusCode).toBe(200);
      const res = await node.request({ method: 'GET', url: `/artifactory/rr-bad/repodata/${name}` });
      expect(res.statusCode).toBe(502);
      expect(res.body).toMatch(/checksum its repomd.xml lists/);
      expect((await node.request({ method: 'GET', url: `/artifactory/api/storage/rr-bad/repodata/${name}` })).statusCode).toBe(404);
    } finally {
      writeFileSync(join(mirror, 'repodata', name), good);
    }
    expect((await node.request({ method: 'GET', url: `/artifactory/rr-bad/repodata/${name}` })).statusCode).toBe(200);
  });
});
