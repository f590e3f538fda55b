import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, HAVE_APT } from '../../../../test/helpers/debian-packages.js';
import { gpgSigningKeys } from '../../../../test/helpers/debian-gpg-keys.js';
import { GpgHome, HAVE_REPREPRO, RepreproRepo, serveStatic } from '../../../../test/helpers/debian-static.js';
import { SYSTEM_ACCESS } from '../../../security/access.js';
import { startTestNode, type TestNode } from '../../../node/testing/test-node.js';
import { parseDistsPath, type DistsPath } from '../layout.js';
import { releaseFiles } from '../release.js';
import { DebianService } from './debian-service.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-debian-service-'));

/**
 * The Debian service's signing and upstream checks with keys done by the real gpg (the node's
 * own key store is not wired in these tests): a remote over a reprepro repository signed by a
 * test key, its Release checked against the configured key (InRelease, and Release with
 * Release.gpg), and a virtual repository's Release signed by its key.
 */
describe.skipIf(!HAVE_APT || !HAVE_REPREPRO)('Debian remote and virtual repositories with signatures', () => {
  let node: TestNode;
  let mirror: Awaited<ReturnType<typeof serveStatic>>;
  let detached: Awaited<ReturnType<typeof serveStatic>>;
  let service: DebianService;
  let upstream: GpgHome;
  let ours: GpgHome;
  const p = (path: string) => parseDistsPath(path) as DistsPath;
  const text = async (repo: string, path: string) => {
    const a = await service.dists(SYSTEM_ACCESS, (await node.ctx.repos.get(repo))!, false, p(path));
    const parts: Buffer[] = [];
    for await (const b of a.parts()) parts.push(b);
    return Buffer.concat(parts).toString();
  };

  beforeAll(async () => {
    upstream = new GpgHome(join(dir, 'upstream-gpg'));
    ours = new GpgHome(join(dir, 'our-gpg'), 'Arca Test Repository Key');
    const other = new GpgHome(join(dir, 'other-gpg'), 'Somebody Else');
    const repo = new RepreproRepo(join(dir, 'mirror'), upstream, [{ codename: 'stable', components: ['main'], architectures: ['amd64'] }]);
    repo.include('stable', buildDeb(dir, { name: 'upstream-pkg', version: '1.0', arch: 'amd64' }).path);
    repo.include('stable', buildDeb(dir, { name: 'tampered-pkg', version: '1.0', arch: 'amd64' }).path);
    mirror = await serveStatic(join(dir, 'mirror'));
    // The same repository without InRelease: Release and Release.gpg only, as older mirrors publish.
    cpSync(join(dir, 'mirror'), join(dir, 'detached'), { recursive: true });
    rmSync(join(dir, 'detached', 'dists', 'stable', 'InRelease'));
    detached = await serveStatic(join(dir, 'detached'));
    node = await startTestNode();
    const c = node.ctx;
    service = new DebianService({ database: c.database, content: c.content, clock: c.clock, repos: c.repos, artifacts: c.artifacts, packages: c.packages, signing: gpgSigningKeys(ours) });
    const repos: Array<[string, Record<string, unknown>]> = [
      ['s-local', { rclass: 'local' }],
      ['s-remote', { rclass: 'remote', url: mirror.url, debianUpstreamPublicKeys: upstream.publicKey() }],
      ['s-wrong', { rclass: 'remote', url: mirror.url, debianUpstreamPublicKeys: other.publicKey() }],
      ['s-detached', { rclass: 'remote', url: detached.url, debianUpstreamPublicKeys: upstream.publicKey() }],
      ['s-detached-wrong', { rclass: 'remote', url: detached.url, debianUpstreamPublicKeys: other.publicKey() }],
      ['s-virtual', { rclass: 'virtual', repositories: ['s-local', 's-remote', 's-wrong'] }],
    ];
    for (const [key, config] of repos) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { key, packageType: 'debian', ...config } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/deb/s-local/pool/l/local-pkg_1.0_amd64.deb;deb.distribution=stable', payload: buildDeb(dir, { name: 'local-pkg', version: '1.0', arch: 'amd64' }).data });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
    await mirror?.close();
    await detached?.close();
  });

  it('signs a local Release: InRelease is the Release clearsigned, Release.gpg its detached signature', async () => {
    const release = await text('s-local', 'dists/stable/Release');
    const inRelease = await text('s-local', 'dists/stable/InRelease');
    const keys = gpgSigningKeys(ours);
    expect(await keys.verifyClearsigned(inRelease, ours.publicKey())).toBe(release);
    expect(await keys.verifyDetached(release, await text('s-local', 'dists/stable/Release.gpg'), ours.publicKey())).toBe(true);
    expect(await keys.verifyClearsigned(inRelease, upstream.publicKey())).toBeNull();
  });

  it('checks a remote Release against the configured key, and its Packages against the Release', async () => {
    const release = await text('s-remote', 'dists/stable/Release');
    expect(release).toMatch(/^Origin: arca-test-mirror$/m);
    const packages = await text('s-remote', 'dists/stable/main/binary-amd64/Packages');
    expect(packages).toMatch(/^Package: upstream-pkg$/m);
    await expect(text('s-wrong', 'dists/stable/InRelease')).rejects.toMatchObject({ code: 'UPSTREAM_FAILED' });
  });

  it('checks Release with Release.gpg when the upstream has no InRelease', async () => {
    expect(await text('s-detached', 'dists/stable/main/binary-amd64/Packages')).toMatch(/^Package: upstream-pkg$/m);
    await expect(text('s-detached', 'dists/stable/InRelease')).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    expect(await text('s-detached', 'dists/stable/Release.gpg')).toMatch(/BEGIN PGP SIGNATURE/);
    await expect(text('s-detached-wrong', 'dists/stable/Release')).rejects.toMatchObject({ code: 'UPSTREAM_FAILED' });
  });

  it('refuses (and does not cache) a pool file that differs from what the checked Packages says', async () => {
    // Through the node's own service (its key store checks the upstream's InRelease).
    const packages = await node.request({ method: 'GET', url: '/artifactory/api/deb/s-remote/dists/stable/main/binary-amd64/Packages.gz' });
    expect(packages.statusCode, packages.body).toBe(200);
    const good = await node.request({ method: 'GET', url: '/artifactory/api/deb/s-remote/pool/main/u/upstream-pkg/upstream-pkg_1.0_amd64.deb' });
    expect(good.statusCode).toBe(200);
    const poolDir = join(dir, 'mirror', 'pool', 'main', 't', 'tampered-pkg');
    writeFileSync(join(poolDir, readdirSync(poolDir)[0]), 'not the package the index names');
    const bad = await node.request({ method: 'GET', url: '/artifactory/api/deb/s-remote/pool/main/t/tampered-pkg/tampered-pkg_1.0_amd64.deb' });
    expect(bad.statusCode, bad.body).toBe(502);
    expect(bad.body).toMatch(/does not match the SHA256/);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/s-remote-cache/pool/main/t/tampered-pkg/tampered-pkg_1.0_amd64.deb' })).statusCode).toBe(404);
  });

  it('merges a virtual repository (the member whose upstream signature fails is dropped) and signs it with its own key', async () => {
    const release = await text('s-virtual', 'dists/stable/Release');
    expect(release).toMatch(/^Origin: s-virtual$/m);
    const packages = await text('s-virtual', 'dists/stable/main/binary-amd64/Packages');
    expect([...packages.matchAll(/^Package: (.*)$/gm)].map((m) => m[1]).sort()).toEqual(['local-pkg', 'tampered-pkg', 'upstream-pkg']);
    expect(releaseFiles(release).get('main/binary-amd64/Packages')?.size).toBe(Buffer.byteLength(packages));
    const inRelease = await text('s-virtual', 'dists/stable/InRelease');
    expect(await gpgSigningKeys(ours).verifyClearsigned(inRelease, ours.publicKey())).toBe(release);
  });
});
