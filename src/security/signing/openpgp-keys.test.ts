import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKeyPair, generateKeyPair, KeyError, OpenPgpSigner, verifyClearsignedMessage, verifyDetachedSignature, type KeyMaterial } from './openpgp-keys.js';

const hasGpg = spawnSync('gpg', ['--version']).status === 0 && spawnSync('gpgv', ['--version']).status === 0;
if (!hasGpg) console.warn('openpgp-keys.test: gpg/gpgv not installed, the real-gpg cases are skipped');

const RELEASE = ['Origin: Arca', 'Label: Arca', 'Suite: stable', 'Codename: bookworm', 'Date: Mon, 07 Dec 2026 08:00:00 UTC', 'Architectures: amd64', 'Components: main', 'SHA256:', ' 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 1234 main/binary-amd64/Packages', '- a line starting with a dash', ''].join('\n');

describe.skipIf(!hasGpg)('OpenPGP signatures checked by the real gpgv and gpg', () => {
  let dir: string;
  let key: KeyMaterial;
  let signer: OpenPgpSigner;
  let keyring: string;
  /** A key pair made by gpg itself, and its armored public key. */
  let gpgHome: string;
  let gpgPublic: string;
  let keygenMs: number;
  let savedHome: string | undefined;

  const gpg = (args: string[], input?: string | Uint8Array) => spawnSync('gpg', ['--homedir', gpgHome, '--batch', '--yes', ...args], { input });
  const gpgv = (...args: string[]) => spawnSync('gpgv', ['--keyring', keyring, ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arca-sign-'));
    // gpg's own home for the commands not given one (dearmor, show-keys): never the user's.
    savedHome = process.env.GNUPGHOME;
    process.env.GNUPGHOME = join(dir, 'default-home');
    execFileSync('mkdir', ['-m', '700', process.env.GNUPGHOME]);
    const t0 = Date.now();
    key = await generateKeyPair('Arca test');
    keygenMs = Date.now() - t0;
    signer = await OpenPgpSigner.of(key.privateKeyArmored, undefined);
    // What an apt source's signed-by= file is: the dearmored public key.
    writeFileSync(join(dir, 'key.asc'), signer.publicKeyArmored);
    keyring = join(dir, 'key.gpg');
    execFileSync('gpg', ['--batch', '--yes', '--dearmor', '-o', keyring, join(dir, 'key.asc')]);
    gpgHome = join(dir, 'gnupg');
    execFileSync('mkdir', ['-m', '700', gpgHome]);
    expect(gpg(['--passphrase', '', '--quick-gen-key', 'Upstream <up@example.org>', 'ed25519', 'sign', 'never']).status).toBe(0);
    gpgPublic = gpg(['--armor', '--export', 'up@example.org']).stdout.toString();
  }, 60_000);
  afterAll(() => {
    if (savedHome === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = savedHome;
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates an RSA 3072 v4 key quickly enough, with a 40-hex fingerprint and the long key id', () => {
    console.info(`RSA 3072 key generation took ${keygenMs} ms`);
    expect(keygenMs).toBeLessThan(10_000);
    expect(signer.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(signer.keyId).toBe(signer.fingerprint.slice(-16));
    const listed = execFileSync('gpg', ['--batch', '--with-colons', '--show-keys', join(dir, 'key.asc')], { encoding: 'utf8' });
    expect(listed).toMatch(/^pub:[^:]*:3072:1:/m);
    expect(listed).toContain(`fpr:::::::::${signer.fingerprint}:`);
  });

  it('clearsigns as gpg does (InRelease): gpgv accepts it and gpg prints the text unchanged', async () => {
    const signed = await signer.clearsign(RELEASE);
    expect(signed).not.toContain('\r');
    expect(signed.startsWith('-----BEGIN PGP SIGNED MESSAGE-----\n')).toBe(true);
    writeFileSync(join(dir, 'InRelease'), signed);
    const v = gpgv(join(dir, 'InRelease'));
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toContain(signer.fingerprint);
    // What apt reads out of InRelease is exactly the Release text.
    const out = spawnSync('gpg', ['--batch', '--no-default-keyring', '--keyring', keyring, '--decrypt', join(dir, 'InRelease')], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toBe(RELEASE);
    // A changed byte breaks it.
    writeFileSync(join(dir, 'InRelease.bad'), signed.replace('Suite: stable', 'Suite: stab1e'));
    expect(gpgv(join(dir, 'InRelease.bad')).status).not.toBe(0);
  });

  it('makes detached armored signatures (Release.gpg, repomd.xml.asc) that gpgv accepts, of text and of bytes', async () => {
    writeFileSync(join(dir, 'Release'), RELEASE);
    writeFileSync(join(dir, 'Release.gpg'), await signer.detachSign(RELEASE));
    const v = gpgv(join(dir, 'Release.gpg'), join(dir, 'Release'));
    expect(v.status, v.stderr).toBe(0);
    const bytes = new Uint8Array([0, 1, 2, 255, 13, 10, 13, 0x20, 10]);
    writeFileSync(join(dir, 'blob'), bytes);
    const sig = await signer.detachSign(bytes);
    expect(sig).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    writeFileSync(join(dir, 'blob.asc'), sig);
    expect(gpgv(join(dir, 'blob.asc'), join(dir, 'blob')).status).toBe(0);
    writeFileSync(join(dir, 'blob'), new Uint8Array([0, 1, 2, 255, 13, 10, 13, 0x20, 11]));
    expect(gpgv(join(dir, 'blob.asc'), join(dir, 'blob')).status).not.toBe(0);
    // gpg --verify (what dnf's gpgme does for repomd.xml.asc) with the imported key.
    const home = join(dir, 'verify-home');
    execFileSync('mkdir', ['-m', '700', home]);
    execFileSync('gpg', ['--homedir', home, '--batch', '--import', join(dir, 'key.asc')], { stdio: 'ignore' });
    writeFileSync(join(dir, 'repomd.xml'), '<?xml version="1.0"?>\n<repomd/>\n');
    writeFileSync(join(dir, 'repomd.xml.asc'), await signer.detachSign('<?xml version="1.0"?>\n<repomd/>\n'));
    const g = spawnSync('gpg', ['--homedir', home, '--batch', '--verify', join(dir, 'repomd.xml.asc'), join(dir, 'repomd.xml')], { encoding: 'utf8' });
    expect(g.status, g.stderr).toBe(0);
    expect(g.stderr).toContain('Good signature');
  });

  it('verifies what the real gpg signed, and refuses tampered data and other keys', async () => {
    writeFileSync(join(dir, 'up.txt'), RELEASE);
    expect(gpg(['--armor', '--detach-sign', '-o', join(dir, 'up.txt.asc'), join(dir, 'up.txt')]).status).toBe(0);
    expect(gpg(['--clearsign', '-o', join(dir, 'up.inrelease'), join(dir, 'up.txt')]).status).toBe(0);
    const detached = execFileSync('cat', [join(dir, 'up.txt.asc')], { encoding: 'utf8' });
    const clear = execFileSync('cat', [join(dir, 'up.inrelease')], { encoding: 'utf8' });

    expect(await verifyDetachedSignature(RELEASE, detached, gpgPublic)).toBe(true);
    expect(await verifyDetachedSignature(new TextEncoder().encode(RELEASE), detached, gpgPublic)).toBe(true);
    expect(await verifyDetachedSignature(`${RELEASE}x`, detached, gpgPublic)).toBe(false);
    expect(await verifyDetachedSignature(RELEASE, detached, signer.publicKeyArmored)).toBe(false);
    // Several keys given (two armored blocks): one of them is enough.
    expect(await verifyDetachedSignature(RELEASE, detached, `${signer.publicKeyArmored}\n${gpgPublic}`)).toBe(true);
    expect(await verifyDetachedSignature(RELEASE, 'not a signature', gpgPublic)).toBe(false);
    expect(await verifyDetachedSignature(RELEASE, detached, 'no key here')).toBe(false);

    expect(await verifyClearsignedMessage(clear, gpgPublic)).toBe(RELEASE);
    expect(await verifyClearsignedMessage(clear, signer.publicKeyArmored)).toBeNull();
    expect(await verifyClearsignedMessage(clear.replace('Codename: bookworm', 'Codename: trixie'), gpgPublic)).toBeNull();
    expect(await verifyClearsignedMessage(RELEASE, gpgPublic)).toBeNull();

    // And its own signatures round-trip.
    expect(await verifyClearsignedMessage(await signer.clearsign(RELEASE), signer.publicKeyArmored)).toBe(RELEASE);
    expect(await verifyDetachedSignature(RELEASE, await signer.detachSign(RELEASE), signer.publicKeyArmored)).toBe(true);
  });

  it('checks an imported pair: parses, matches its public key, unlocks with its passphrase', async () => {
    const home = join(dir, 'pass-home');
    execFileSync('mkdir', ['-m', '700', home]);
    const g = (args: string[]) => spawnSync('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', ...args]);
    expect(g(['--passphrase', 's3cret', '--quick-gen-key', 'Locked <locked@example.org>', 'rsa2048', 'sign', 'never']).status).toBe(0);
    const priv = g(['--passphrase', 's3cret', '--armor', '--export-secret-keys', 'locked@example.org']).stdout.toString();
    const pub = g(['--armor', '--export', 'locked@example.org']).stdout.toString();
    const ok = await checkKeyPair(priv, pub, 's3cret');
    expect(ok.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    await expect(checkKeyPair(priv, pub, 'wrong')).rejects.toBeInstanceOf(KeyError);
    await expect(checkKeyPair(priv, pub, undefined)).rejects.toThrow(/passphrase/);
    await expect(checkKeyPair(priv, gpgPublic, 's3cret')).rejects.toThrow(/does not match/);
    await expect(checkKeyPair('garbage', pub, 's3cret')).rejects.toThrow(/cannot be read/);
    // A passphrase-protected gpg key signs through the Signer, and gpgv accepts it.
    const locked = await OpenPgpSigner.of(priv, 's3cret');
    writeFileSync(join(dir, 'locked.asc'), pub);
    const ring = join(dir, 'locked.gpg');
    execFileSync('gpg', ['--batch', '--yes', '--dearmor', '-o', ring, join(dir, 'locked.asc')]);
    writeFileSync(join(dir, 'InRelease.locked'), await locked.clearsign(RELEASE));
    expect(spawnSync('gpgv', ['--keyring', ring, join(dir, 'InRelease.locked')]).status).toBe(0);
  });
});
