import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { Dnf, gpgDetachSign, hasDnfTools, packagerKey, signRpms, staticServer } from '../helpers/rpm-dnf.js';
import { buildRpm, type RpmSpec } from '../helpers/rpm-packages.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * RPM repositories against real `arca start` processes and the real dnf (Debian's dnf 4 with
 * librepo and libsolv), each dnf with its own dnf.conf, reposdir, cache and `--installroot`.
 * Packages are built by rpmbuild and signed by rpmsign with a throwaway key, so dnf runs with
 * `gpgcheck=1` (packages) and `repo_gpgcheck=1` (repomd.xml.asc, signed by Arca's key for the
 * repository). A createrepo_c repository, its repomd.xml signed by gpg, is served on 127.0.0.1
 * by a small static server; a remote repository proxies it (checking the signature against
 * the configured upstream key) and a virtual repository merges it with the local one.
 * Once on one node, once through nginx in front of a cluster.
 */

const skip = hasDnfTools();

const auth = { authorization: ADMIN_AUTH };

function rpmFlow(label: string, base: () => string) {
  describe(`rpm repositories through ${label}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-rpm-e2e-'));
    let at: string;
    let upstream: { url: string; server: Server; requests: string[] };
    let key: ReturnType<typeof packagerKey>;
    const built = new Map<string, { file: string; data: Buffer }>();
    let dnfCount = 0;
    const newDnf = () => new Dnf(join(dir, `dnf-${++dnfCount}`));

    const put = async (repo: string, path: string, body: Buffer) => fetch(`${at}/${repo}/${path}`, { method: 'PUT', headers: auth, body });

    function arcaRepo(dnf: Dnf, repo: string, extraKeys: string[] = []) {
      return dnf.repo({
        id: repo,
        baseurl: `${at}/${repo}`,
        gpgkeys: [`${at}/api/security/keypair/public/repositories/${repo}`, `file://${join(dir, 'packager.asc')}`, ...extraKeys],
        gpgcheck: true,
        repoGpgcheck: true,
        username: 'admin',
        password: ADMIN_PASSWORD,
      });
    }

    beforeAll(async () => {
      at = base();
      key = packagerKey(dir);
      const specs: RpmSpec[] = [
        { name: 'hello-lib', version: '1.0', provides: ['hello-api = 1.0'] },
        { name: 'hello-app', version: '2.0', requires: ['hello-lib >= 1.0'], files: { '/usr/bin/hello-app': '#!/bin/sh\necho hello\n' } },
        { name: 'upstream-tool', version: '3.1', release: '2', requires: ['hello-api'], files: { '/usr/bin/upstream-tool': '#!/bin/sh\necho up\n', '/etc/upstream-tool.conf': 'x=1\n' } },
      ];
      const pkgDir = join(dir, 'pkgs');
      mkdirSync(pkgDir, { recursive: true });
      for (const s of specs) {
        const b = buildRpm(join(dir, 'build'), s);
        writeFileSync(join(pkgDir, b.file), b.data);
        built.set(s.name, b);
      }
      signRpms(key.home, [...built.values()].map((b) => join(pkgDir, b.file)));
      for (const [name, b] of built) built.set(name, { file: b.file, data: readFileSync(join(pkgDir, b.file)) });
      // The upstream: createrepo_c over upstream-tool, repomd.xml signed with gpg.
      const mirror = join(dir, 'mirror');
      mkdirSync(join(mirror, 'Packages'), { recursive: true });
      writeFileSync(join(mirror, 'Packages', built.get('upstream-tool')!.file), built.get('upstream-tool')!.data);
      execFileSync('createrepo_c', ['--quiet', '--general-compress-type=gz', mirror]);
      gpgDetachSign(key.home, join(mirror, 'repodata', 'repomd.xml'));
      upstream = await staticServer(mirror);
      await createRepo('rpm-local', { rclass: 'local' });
      await createRepo('rpm-remote', { rclass: 'remote', url: upstream.url, retrievalCachePeriodSecs: 0, rpmUpstreamPublicKey: key.publicKey });
      await createRepo('rpm-virtual', { rclass: 'virtual', repositories: ['rpm-local', 'rpm-remote'], defaultDeploymentRepo: 'rpm-local' });
      await createRepo('rpm-remote-badkey', { rclass: 'remote', url: upstream.url, rpmUpstreamPublicKey: packagerKey(join(dir, 'other-key')).publicKey });
      // Every node behind the balancer knows the repositories before the tests start.
      for (const key of ['rpm-local', 'rpm-remote', 'rpm-virtual', 'rpm-remote-badkey']) {
        for (let ok = 0, tries = 0; ok < 6 && tries < 300; tries++) {
          ok = (await fetch(`${at}/api/repositories/${key}`, { headers: auth })).status === 200 ? ok + 1 : 0;
          if (ok === 0) await new Promise((r) => setTimeout(r, 100));
        }
      }
    }, 180_000);

    async function createRepo(repoKey: string, config: Record<string, unknown>) {
      const res = await fetch(`${at}/api/repositories/${repoKey}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ key: repoKey, packageType: 'rpm', ...config }) });
      expect(res.status, await res.text()).toBe(200);
    }

    afterAll(async () => {
      upstream?.server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses a file that is not a package, stores nothing and leaves repomd.xml as it was', async () => {
      const before = await fetch(`${at}/rpm-local/repodata/repomd.xml`, { headers: auth });
      const garbage = await put('rpm-local', 'Packages/broken-1.0-1.noarch.rpm', Buffer.from('not an rpm at all, just text that is long enough to pass the lead size check of ninety-six bytes.....'));
      expect(garbage.status).toBe(400);
      expect(await garbage.text()).toMatch(/Not a valid RPM package/);
      const truncated = await put('rpm-local', 'Packages/hello-lib-1.0-1.noarch.rpm', built.get('hello-lib')!.data.subarray(0, 3000));
      expect(truncated.status).toBe(400);
      expect((await fetch(`${at}/rpm-local/Packages/broken-1.0-1.noarch.rpm`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${at}/rpm-local/Packages/hello-lib-1.0-1.noarch.rpm`, { headers: auth })).status).toBe(404);
      const after = await fetch(`${at}/rpm-local/repodata/repomd.xml`, { headers: auth });
      expect(after.status).toBe(before.status);
      const generated = await put('rpm-local', 'repodata/repomd.xml', Buffer.from('<repomd/>'));
      expect(generated.status).toBe(403);
    });

    it('deploys two packages, one requiring the other; dnf installs them with gpgcheck and repo_gpgcheck', async () => {
      for (const name of ['hello-lib', 'hello-app']) {
        const b = built.get(name)!;
        const res = await put('rpm-local', `Packages/${b.file}`, b.data);
        expect(res.status, await res.text()).toBe(201);
      }
      const repomd = await (await fetch(`${at}/rpm-local/repodata/repomd.xml`, { headers: auth })).text();
      expect(repomd).toMatch(/<data type="primary">/);
      const asc = await fetch(`${at}/rpm-local/repodata/repomd.xml.asc`, { headers: auth });
      expect(asc.status).toBe(200);
      expect(await asc.text()).toMatch(/BEGIN PGP SIGNATURE/);
      const dnf = newDnf();
      arcaRepo(dnf, 'rpm-local');
      const out = await dnf.run(['install', 'hello-app']);
      expect(out).toMatch(/Complete!/);
      expect(readFileSync(join(dnf.root, 'usr/bin/hello-app'), 'utf8')).toContain('echo hello');
      expect(existsSync(join(dnf.root, 'usr/share/hello-lib/hello-lib.txt'))).toBe(true);
    }, 240_000);

    it('installs through a virtual repository a package of the remote member (createrepo_c upstream) that needs one of the local member', async () => {
      const dnf = newDnf();
      arcaRepo(dnf, 'rpm-virtual');
      const out = await dnf.run(['install', 'upstream-tool']);
      expect(out).toMatch(/Complete!/);
      expect(readFileSync(join(dnf.root, 'usr/bin/upstream-tool'), 'utf8')).toContain('echo up');
      expect(existsSync(join(dnf.root, 'usr/share/hello-lib/hello-lib.txt'))).toBe(true);
      // The remote fetched the upstream's repodata and package once they were asked for.
      expect(upstream.requests.some((r) => r.endsWith('repomd.xml'))).toBe(true);
      expect(upstream.requests.some((r) => r.endsWith('.rpm'))).toBe(true);
      // The remote alone serves the upstream's package too.
      const remote = newDnf();
      arcaRepo(remote, 'rpm-remote');
      expect(await remote.run(['repoquery', '--available', 'upstream-tool'])).toMatch(/upstream-tool-0:3\.1-2\.noarch/);
      const file = await fetch(`${at}/rpm-remote/Packages/${built.get('upstream-tool')!.file}`, { headers: auth });
      expect(Buffer.from(await file.arrayBuffer()).equals(built.get('upstream-tool')!.data)).toBe(true);
    }, 240_000);

    it('refuses an upstream repomd.xml whose signature is not by the configured key', async () => {
      const res = await fetch(`${at}/rpm-remote-badkey/repodata/repomd.xml`, { headers: auth });
      expect(res.status).toBe(502);
    });

    it('takes a deleted package out of the metadata: the next makecache no longer offers it', async () => {
      const dnf = newDnf();
      arcaRepo(dnf, 'rpm-local');
      expect(await dnf.run(['repoquery', '--available', 'hello-app'])).toMatch(/hello-app-0:2\.0-1\.noarch/);
      const res = await fetch(`${at}/rpm-local/Packages/${built.get('hello-app')!.file}`, { method: 'DELETE', headers: auth });
      expect(res.status).toBe(204);
      await dnf.run(['makecache']);
      const after = await dnf.run(['repoquery', '--available', 'hello-app']);
      expect(after).not.toMatch(/hello-app-0:2\.0-1/);
      expect(await dnf.run(['repoquery', '--available', 'hello-lib'])).toMatch(/hello-lib-0:1\.0-1\.noarch/);
    }, 240_000);
  });
}

if (skip) {
  console.warn(`[skip] rpm e2e: ${skip}`);
  describe.skip(`rpm e2e (${skip})`, () => {});
} else describeOnNodeAndCluster('rpm', rpmFlow);
