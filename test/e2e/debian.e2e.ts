import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { AptRoot, buildDeb, HAVE_APT, run } from '../helpers/debian-packages.js';
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

    /** An apt root whose sources.list names `repo` (signed-by its key when the node signs). */
    async function aptFor(repo: string, name: string, dist = 'bookworm', comp = 'main'): Promise<AptRoot> {
      const apt = new AptRoot(join(dir, name));
      const key = await publicKey(at, repo);
      let options: string;
      if (key) options = `[signed-by=${apt.keyring(repo, key)}]`;
      else {
        console.warn('[note] no public key endpoint on this node yet: apt reads the repository as trusted');
        options = '[trusted=yes]';
      }
      const url = new URL(debUrl(repo));
      writeFileSync(join(apt.dir, 'etc/apt/auth.conf'), `machine http://${url.host}${url.pathname} login admin password ${ADMIN_PASSWORD}\n`);
      apt.sources([`deb ${options} ${debUrl(repo)} ${dist} ${comp}`]);
      return apt;
    }

    async function aptRun(apt: AptRoot, args: string[]) {
      const r = await apt.apt(['-o', `Dir::Etc::netrc=${join(apt.dir, 'etc/apt/auth.conf')}`, ...args]);
      return r;
    }

    beforeAll(async () => {
      at = base();
      for (const [key, config] of [['deb-local', { rclass: 'local' }]] as const) {
        const res = await fetch(`${at}/api/repositories/${key}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ key, packageType: 'debian', ...config }) });
        expect(res.status, await res.text()).toBe(200);
      }
    }, 120_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
      const listed = await run('dpkg-query', ['--admindir', join(root, 'var/lib/dpkg'), '-W', '-f', '${Package} ${Version}\n']);
      expect(listed.out).toContain('arca-app 2:2.1.0-3');
      expect(listed.out).toContain('arca-lib 1.0-1');
    }, 180_000);
  });
}

describeOnNodeAndCluster('debian', debianFlow);
