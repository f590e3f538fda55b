import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer, SigningKeys } from '../../src/security/signing/signer.js';
import { GPG, GpgHome } from './debian-static.js';

/**
 * `SigningKeys` done by the real `gpg` binary, for tests of the formats' signing and checking
 * before (or beside) the node's own key store: one key made for the test signs every
 * repository; signatures are checked by importing the given keys into a fresh keyring.
 */
export function gpgSigningKeys(home: GpgHome): SigningKeys {
  const signer: Signer = {
    fingerprint: home.fingerprint,
    keyId: home.fingerprint.slice(-16),
    publicKeyArmored: home.publicKey(),
    clearsign: async (text) => home.gpg(['--batch', '--yes', '--armor', '--local-user', home.fingerprint, '--clearsign'], Buffer.from(text)).toString(),
    detachSign: async (data) => home.gpg(['--batch', '--yes', '--armor', '--local-user', home.fingerprint, '--detach-sign'], Buffer.from(data)).toString(),
  };
  const withKeys = <T>(keys: string, work: (dir: string) => T): T => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-gpg-verify-'));
    try {
      execFileSync(GPG, ['--homedir', dir, '--batch', '--import'], { input: keys, stdio: ['pipe', 'pipe', 'pipe'] });
      return work(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return {
    forRepository: async () => signer,
    verifyDetached: async (data, signature, keys) =>
      withKeys(keys, (dir) => {
        writeFileSync(join(dir, 'data'), Buffer.from(data));
        writeFileSync(join(dir, 'data.asc'), signature);
        try {
          const status = execFileSync(GPG, ['--homedir', dir, '--batch', '--status-fd', '1', '--verify', join(dir, 'data.asc'), join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
          return /\[GNUPG:\] VALIDSIG /.test(status);
        } catch {
          return false;
        }
      }),
    verifyClearsigned: async (message, keys) =>
      withKeys(keys, (dir) => {
        writeFileSync(join(dir, 'msg.asc'), message);
        try {
          return execFileSync(GPG, ['--homedir', dir, '--batch', '--decrypt', join(dir, 'msg.asc')], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
        } catch {
          return null;
        }
      }),
  };
}
