import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, OpenPgpSigner } from './openpgp-keys.js';

const has = (cmd: string, arg = '--version') => spawnSync(cmd, [arg]).status === 0;
const hasApt = has('apt-get');
const hasDnf = has('dnf') && has('createrepo_c');
if (!hasApt) console.warn('real-clients.test: apt-get not installed, the apt case is skipped');
if (!hasDnf) console.warn('real-clients.test: dnf or createrepo_c not installed, the dnf case is skipped');

/**
 * The signatures as the package managers check them: apt-get update on a local file: repository
 * (InRelease, then Release + Release.gpg) with `signed-by=` the exported public key, and
 * dnf makecache with `repo_gpgcheck=1` on a createrepo_c repository whose repomd.xml is signed.
 * The same repositories signed by another key are refused.
 */
describe('metadata signatures accepted by the real apt and dnf', () => {
  let root: string;
  let signer: OpenPgpSigner;
  let stranger: OpenPgpSigner;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'arca-sign-clients-'));
    signer = await OpenPgpSigner.of((await generateKeyPair('Arca')).privateKeyArmored, undefined);
    stranger = await OpenPgpSigner.of((await generateKeyPair('Stranger')).privateKeyArmored, undefined);
    writeFileSync(join(root, 'key.asc'), signer.publicKeyArmored);
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.skipIf(!hasApt)('apt-get update accepts InRelease and Release.gpg, and refuses another key', async () => {
    const repo = join(root, 'deb');
    const dist = join(repo, 'dists/stable');
    mkdirSync(join(dist, 'main/binary-amd64'), { recursive: true });
    const packages = 'Package: hello\nVersion: 1.0\nArchitecture: amd64\nFilename: pool/h/hello_1.0_amd64.deb\nSize: 1\nSHA256: 0000000000000000000000000000000000000000000000000000000000000000\nDescription: x\n';
    writeFileSync(join(dist, 'main/binary-amd64/Packages'), packages);
    const sha256 = createHash('sha256').update(packages).digest('hex');
    const release = `Origin: Arca\nLabel: Arca\nSuite: stable\nCodename: stable\nDate: ${new Date().toUTCString()}\nArchitectures: amd64\nComponents: main\nSHA256:\n ${sha256} ${Buffer.byteLength(packages)} main/binary-amd64/Packages\n`;
    writeFileSync(join(dist, 'Release'), release);
    writeFileSync(join(root, 'deb.list'), `deb [signed-by=${join(root, 'key.asc')}] file:${repo} stable main\n`);

    const update = () => {
      const state = join(root, 'apt-state');
      rmSync(state, { recursive: true, force: true });
      mkdirSync(join(state, 'lists/partial'), { recursive: true });
      mkdirSync(join(root, 'apt-cache/archives/partial'), { recursive: true });
      const opts = [`Dir::Etc::SourceList=${join(root, 'deb.list')}`, 'Dir::Etc::SourceParts=/nonexistent', `Dir::State=${state}`, `Dir::Cache=${join(root, 'apt-cache')}`, 'Debug::NoLocking=1', 'APT::Sandbox::User=root'];
      const r = spawnSync('apt-get', ['update', ...opts.flatMap((o) => ['-o', o])], { encoding: 'utf8' });
      const policy = spawnSync('apt-cache', ['policy', 'hello', ...opts.flatMap((o) => ['-o', o])], { encoding: 'utf8' });
      return { ok: r.status === 0 && !/^(W|E):/m.test(r.stderr), out: `${r.stdout}${r.stderr}`, offers: /Candidate: 1\.0/.test(policy.stdout) };
    };

    writeFileSync(join(dist, 'InRelease'), await signer.clearsign(release));
    let r = update();
    expect(r.ok, r.out).toBe(true);
    expect(r.offers).toBe(true);

    writeFileSync(join(dist, 'InRelease'), await stranger.clearsign(release));
    r = update();
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/NO_PUBKEY|not signed|signatures couldn't be verified/);
    expect(r.offers).toBe(false);

    // Signed by two keys (a repository's primary and secondary pairs): apt takes it with only one of them.
    writeFileSync(join(dist, 'InRelease'), await stranger.with(signer).clearsign(release));
    r = update();
    expect(r.ok, r.out).toBe(true);
    expect(r.offers).toBe(true);

    rmSync(join(dist, 'InRelease'));
    writeFileSync(join(dist, 'Release.gpg'), await signer.detachSign(release));
    r = update();
    expect(r.ok, r.out).toBe(true);
    expect(r.out).toContain('Release.gpg');
    expect(r.offers).toBe(true);
  }, 120_000);

  it.skipIf(!hasDnf)('dnf makecache with repo_gpgcheck accepts repomd.xml.asc, and refuses another key', async () => {
    const repo = join(root, 'rpm');
    mkdirSync(repo);
    execFileSync('createrepo_c', ['-q', repo]);
    const repomd = readFileSync(join(repo, 'repodata/repomd.xml'));
    writeFileSync(join(root, 'arca.repo'), `[arca]\nname=Arca\nbaseurl=file://${repo}\ngpgcheck=1\nrepo_gpgcheck=1\nskip_if_unavailable=0\ngpgkey=file://${join(root, 'key.asc')}\n`);
    const makecache = (n: number) => {
      const installroot = join(root, `dnf-root-${n}`);
      mkdirSync(installroot);
      const args = ['-y', '--installroot', installroot, `--setopt=reposdir=${root}`, `--setopt=cachedir=${join(root, `dnf-cache-${n}`)}`, '--releasever=12', '--disablerepo=*', '--enablerepo=arca', 'makecache'];
      const r = spawnSync('dnf', args, { encoding: 'utf8' });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };
    writeFileSync(join(repo, 'repodata/repomd.xml.asc'), await signer.detachSign(repomd));
    let r = makecache(1);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('Metadata cache created');
    expect(r.out).toContain(`0x${signer.fingerprint.slice(-8)}`);

    writeFileSync(join(repo, 'repodata/repomd.xml.asc'), await stranger.detachSign(repomd));
    r = makecache(2);
    expect(r.status, r.out).not.toBe(0);
    expect(r.out).toMatch(/GPG signature verification error/);

    // Signed by two keys: dnf takes it with only one of them.
    writeFileSync(join(repo, 'repodata/repomd.xml.asc'), await stranger.with(signer).detachSign(repomd));
    r = makecache(3);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('Metadata cache created');
  }, 180_000);
});
