import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { AptRoot, buildDeb, HAVE_APT, run } from '../helpers/debian-packages.js';
import { GpgHome, HAVE_REPREPRO, RepreproRepo, serveStatic } from '../helpers/debian-static.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * Debian repositories against real `arca start` processes and the real apt: packages built by
 * `dpkg-deb --build` (xz control tarballs, as Debian 12 builds them), deployed with matrix
 * parameters, then `apt-get update` and `apt-get install` into a root of the test's own, with
 * `signed-by=` the repository's public key. Once on one node, once through nginx in front of a
 * cluster.
 */

const auth = { authorization: ADMIN_AUTH };

if (!HAVE_APT) console.warn('[skip] debian e2e: dpkg-deb or apt-get is not installed');
if (!HAVE_REPREPRO) console.warn('[skip] debian e2e, remote and virtual: reprepro or gpg is not installed');

async function publicKey(base: string, repo: string): Promise<string | undefined> {
  for (const url of [`${base}/api/security/keypair/public/repositories/${repo}`, `${base}/api/gpg/key/public`]) {
    const res = await fetch(url, { headers: auth });
    if (res.status === 200) return res.text();
  }
  return undefined;
}

function debianFlow(label: string, base: () => string) {
  describe.skipIf(!HAVE_APT)(`debian repositories through ${label}`, () => {
    let at: string;
    const dir = mkdtempSync(join(tmpdir(), 'arca-debian-e2e-'));
    const debUrl = (repo: string) => `${at}/api/deb/${repo}`;

    /** An apt root whose sources.list names `repo`, signed-by the repository's public key (or `keyArmored`). */
    async function aptFor(repo: string, name: string, dist = 'bookworm', comp = 'main', keyArmored?: string, plainUrl = false): Promise<AptRoot> {
      const apt = new AptRoot(join(dir, name));
      const key = keyArmored ?? (await publicKey(at, repo));
      expect(key, `the public key of ${repo}`).toMatch(/BEGIN PGP PUBLIC KEY BLOCK/);
      const options = `[signed-by=${apt.keyring(repo, key!)}]`;
      const repoUrl = plainUrl ? `${at}/${repo}` : debUrl(repo);
      const url = new URL(repoUrl);
      writeFileSync(join(apt.dir, 'etc/apt/auth.conf'), `machine http://${url.host}${url.pathname} login admin password ${ADMIN_PASSWORD}\n`);
      apt.sources([`deb ${options} ${repoUrl} ${dist} ${comp}`]);
      return apt;
    }

    async function aptRun(apt: AptRoot, args: string[]) {
      const r = await apt.apt(['-o', `Dir::Etc::netrc=${join(apt.dir, 'etc/apt/auth.conf')}`, ...args]);
      return r;
    }

    let mirror: Awaited<ReturnType<typeof serveStatic>>;
    let mirrorKey: string;

    beforeAll(async () => {
      at = base();
      // The upstream: a reprepro repository signed with a key of the test's own, on a static server.
      const gpg = new GpgHome(join(dir, 'gnupg'));
      mirrorKey = gpg.publicKey();
      const repo = new RepreproRepo(join(dir, 'mirror'), gpg, [{ codename: 'bookworm', components: ['main'], architectures: ['amd64'] }]);
      repo.include('bookworm', buildDeb(dir, { name: 'mirror-tool', version: '0.9-1', arch: 'amd64', depends: 'arca-lib' }).path);
      repo.include('bookworm', buildDeb(dir, { name: 'mirror-extra', version: '3.0', arch: 'all', compression: 'gzip' }).path);
      mirror = await serveStatic(join(dir, 'mirror'));
      const other = new GpgHome(join(dir, 'gnupg-other'), 'Somebody Else');
      for (const [key, config] of [
        ['deb-local', { rclass: 'local' }],
        ['deb-remote', { rclass: 'remote', url: mirror.url, debianUpstreamPublicKeys: mirrorKey, retrievalCachePeriodSecs: 0 }],
        ['deb-remote-wrongkey', { rclass: 'remote', url: mirror.url, debianUpstreamPublicKeys: other.publicKey() }],
        ['deb-virtual', { rclass: 'virtual', repositories: ['deb-local', 'deb-remote'], defaultDeploymentRepo: 'deb-local' }],
      ] as const) {
        const res = await fetch(`${at}/api/repositories/${key}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ key, packageType: 'debian', ...config }) });
        expect(res.status, await res.text()).toBe(200);
      }
    }, 120_000);

    afterAll(async () => {
      await mirror?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('deploys two packages built by dpkg-deb (one depends on the other); apt-get update and install them', async () => {
      const lib = buildDeb(dir, { name: 'arca-lib', version: '1.0-1', arch: 'all', payload: 'library\n' });
      const app = buildDeb(dir, { name: 'arca-app', version: '2:2.1.0-3', arch: 'amd64', depends: 'arca-lib (>= 1.0)' });
      const put1 = await fetch(`${debUrl('deb-local')}/pool/main/a/arca-lib/arca-lib_1.0-1_all.deb;deb.distribution=bookworm;deb.component=main`, { method: 'PUT', headers: auth, body: lib.data });
      expect(put1.status, await put1.text()).toBe(201);
      const put2 = await fetch(`${at}/deb-local/pool/main/a/arca-app/arca-app_2.1.0-3_amd64.deb;deb.distribution=bookworm;deb.component=main;deb.architecture=amd64`, { method: 'PUT', headers: auth, body: app.data });
      expect(put2.status, await put2.text()).toBe(201);

      const release = await fetch(`${debUrl('deb-local')}/dists/bookworm/Release`, { headers: auth });
      const text = await release.text();
      expect(release.status, text).toBe(200);
      expect(text).toMatch(/^Architectures: amd64 all$/m);
      expect(text).toMatch(/main\/binary-amd64\/Packages\.gz$/m);

      const inRelease = await (await fetch(`${debUrl('deb-local')}/dists/bookworm/InRelease`, { headers: auth })).text();
      expect(inRelease).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----/);
      expect(inRelease).toContain(text.trimEnd());
      const apt = await aptFor('deb-local', 'local');
      const update = await aptRun(apt, ['update']);
      expect(update.code, update.out).toBe(0);
      expect(update.out).not.toMatch(/^(W|E):/m);
      const install = await aptRun(apt, ['install', '--download-only', 'arca-app']);
      expect(install.code, install.out).toBe(0);
      const got = readdirSync(apt.archives()).filter((f) => f.endsWith('.deb')).sort();
      expect(got).toEqual(['arca-app_2%3a2.1.0-3_amd64.deb', 'arca-lib_1.0-1_all.deb']);
      const root = join(apt.dir, 'instroot');
      const dpkg = await run('dpkg', ['--root', root, '--force-not-root', '--force-script-chrootless', '--log=/dev/null', '-i', ...got.map((f) => join(apt.archives(), f))]);
      expect(dpkg.code, dpkg.out).toBe(0);
      // apt trusts the repository only with its key: another key fails the update.
      const wrongKey = await aptFor('deb-local', 'local-wrong-key', 'bookworm', 'main', mirrorKey);
      const refused = await aptRun(wrongKey, ['update']);
      expect(refused.out).toMatch(/NO_PUBKEY|is not signed/);
      const listed = await run('dpkg-query', ['--admindir', join(root, 'var/lib/dpkg'), '-W', '-f', '${Package} ${Version}\n']);
      expect(listed.out).toContain('arca-app 2:2.1.0-3');
      expect(listed.out).toContain('arca-lib 1.0-1');
    }, 180_000);

    it('proxies a reprepro repository (its Release checked against the configured key) and merges it with the local one in a virtual repository that signs with its own key', async () => {
      const remoteRelease = await fetch(`${debUrl('deb-remote')}/dists/bookworm/InRelease`, { headers: auth });
      expect(remoteRelease.status, await remoteRelease.clone().text()).toBe(200);
      expect(await remoteRelease.text()).toContain('Origin: arca-test-mirror');
      const refused = await fetch(`${debUrl('deb-remote-wrongkey')}/dists/bookworm/InRelease`, { headers: auth });
      expect(refused.status).toBe(502);
      expect(await refused.text()).toMatch(/not signed by a key in debianUpstreamPublicKeys/);

      const merged = await fetch(`${debUrl('deb-virtual')}/dists/bookworm/Release`, { headers: auth });
      const release = await merged.text();
      expect(merged.status, release).toBe(200);
      expect(release).toMatch(/^Origin: deb-virtual$/m);
      const packages = await (await fetch(`${debUrl('deb-virtual')}/dists/bookworm/main/binary-amd64/Packages`, { headers: auth })).text();
      expect(packages.match(/^Package: .*$/gm)?.sort()).toEqual(['Package: arca-app', 'Package: arca-lib', 'Package: mirror-extra', 'Package: mirror-tool']);

      const apt = await aptFor('deb-virtual', 'virtual');
      const update = await aptRun(apt, ['update']);
      expect(update.code, update.out).toBe(0);
      expect(update.out).not.toMatch(/^(W|E):/m);
      // mirror-tool (from the remote member) depends on arca-lib (from the local one).
      const install = await aptRun(apt, ['install', '--download-only', 'mirror-tool', 'mirror-extra']);
      expect(install.code, install.out).toBe(0);
      expect(readdirSync(apt.archives()).filter((f) => f.endsWith('.deb')).sort()).toEqual(['arca-lib_1.0-1_all.deb', 'mirror-extra_3.0_all.deb', 'mirror-tool_0.9-1_amd64.deb']);
      // The pool files came through Arca (the remote caches them).
      expect(mirror.hits.get('/pool/main/m/mirror-tool/mirror-tool_0.9-1_amd64.deb')).toBe(1);
    }, 180_000);

    it('refuses bad packages with a 400, stores nothing and leaves the indexes as they were', async () => {
      const before = await (await fetch(`${debUrl('deb-local')}/dists/bookworm/Release`, { headers: auth })).text();
      const good = buildDeb(dir, { name: 'arca-bad', version: '1.0', arch: 'amd64' }).data;
      const badVersion = buildDeb(dir, { name: 'arca-badver', version: '1.0', arch: 'amd64', fields: {} });
      void badVersion;
      const cases: Array<[string, Buffer, string, RegExp]> = [
        ['truncated', good.subarray(0, good.length - 100), ';deb.distribution=bookworm', /truncated/],
        ['not an ar archive', Buffer.from('hello world, not a package'), ';deb.distribution=bookworm', /ar archive/],
        ['no distribution', good, ';deb.component=main', /deb\.distribution/],
        ['architecture disagrees', good, ';deb.distribution=bookworm;deb.architecture=arm64', /disagrees/],
        ['bad distribution name', good, ';deb.distribution=bad%20name', /not a valid distribution/],
        ['bad component name', good, ';deb.distribution=bookworm;deb.component=a%2Fb', /not a valid component/],
      ];
      for (const [what, body, params, message] of cases) {
        const res = await fetch(`${debUrl('deb-local')}/pool/bad/arca-bad_1.0_amd64.deb${params}`, { method: 'PUT', headers: auth, body });
        const text = await res.text();
        expect(res.status, `${what}: ${text}`).toBe(400);
        expect(text, what).toMatch(message);
      }
      expect((await fetch(`${at}/api/storage/deb-local/pool/bad/arca-bad_1.0_amd64.deb`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${at}/deb-local/dists/bookworm/Release`, { method: 'PUT', headers: auth, body: 'x' })).status).toBe(403);
      expect(await (await fetch(`${debUrl('deb-local')}/dists/bookworm/Release`, { headers: auth })).text()).toBe(before);
    });

    it('serves apt at /artifactory/{repo} too (a sources.list written without api/deb)', async () => {
      const apt = await aptFor('deb-local', 'plain-url', 'bookworm', 'main', undefined, true);
      const update = await aptRun(apt, ['update']);
      expect(update.code, update.out).toBe(0);
      const install = await aptRun(apt, ['install', '--download-only', 'arca-app']);
      expect(install.code, install.out).toBe(0);
    }, 180_000);

    it('takes a deleted package out of the indexes: the next apt-get update no longer offers it', async () => {
      const apt = await aptFor('deb-local', 'removal');
      expect((await aptRun(apt, ['update'])).code).toBe(0);
      expect((await aptRun(apt, ['install', '--download-only', 'arca-app'])).code).toBe(0);
      const del = await fetch(`${at}/deb-local/pool/main/a/arca-app/arca-app_2.1.0-3_amd64.deb`, { method: 'DELETE', headers: auth });
      expect(del.status).toBe(204);
      const update = await aptRun(apt, ['update']);
      expect(update.code, update.out).toBe(0);
      const again = await aptRun(apt, ['install', '--download-only', 'arca-app']);
      expect(again.code).not.toBe(0);
      expect(again.out).toMatch(/Unable to locate package arca-app/);
      // arca-lib (architecture all) is still there.
      expect((await aptRun(apt, ['install', '--download-only', 'arca-lib'])).code).toBe(0);
    }, 180_000);
  });
}

describeOnNodeAndCluster('debian', debianFlow);
