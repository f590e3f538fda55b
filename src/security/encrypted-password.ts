import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from '../core/secrets.js';

/**
 * Encrypted passwords (`GET /api/security/encryptedPassword`).
 *
 * Choice: the value is the user's own password, encrypted with AES-256-GCM under a key derived
 * from the master key, with the user name as associated data. Basic auth decrypts it and then
 * runs the normal password check. So it works on every HA node (they share the master key),
 * it works only with the user it was made for, it stops working when the password changes,
 * and the failed-login lockout and `internalPasswordDisabled` apply to it exactly as to the
 * password. The prefix uses only letters and digits and no braces, because Maven treats
 * `{…}` in settings.xml as its own encrypted format.
 */
export const ENCRYPTED_PASSWORD_PREFIX = 'AEP1';

function keyOf(masterKey: Buffer): Buffer {
  return deriveKey(masterKey, 'encrypted-password', 32);
}

export function encryptPassword(masterKey: Buffer, user: string, password: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(masterKey), iv);
  cipher.setAAD(Buffer.from(user, 'utf8'));
  const body = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
  return ENCRYPTED_PASSWORD_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The password, or undefined when the value was not made for `user` with this master key. */
export function decryptPassword(masterKey: Buffer, user: string, value: string): string | undefined {
  if (!value.startsWith(ENCRYPTED_PASSWORD_PREFIX)) return undefined;
  const raw = Buffer.from(value.slice(ENCRYPTED_PASSWORD_PREFIX.length), 'base64url');
  if (raw.length < 29) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(masterKey), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(user, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
