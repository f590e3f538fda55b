import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** Prefix of a value encrypted with the master key (AES-GCM). */
export const ENCRYPTED_PREFIX = 'ENC(v1:';

function subKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `arca:${purpose}`, masterKey.length));
}

function algorithmFor(key: Buffer): 'aes-128-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
}

export function isEncrypted(value: string): boolean {
  return value.startsWith(ENCRYPTED_PREFIX) && value.endsWith(')');
}

/** Encrypts a secret with the master key: `ENC(v1:<base64url of iv | tag | ciphertext>)`. */
export function encryptSecret(masterKey: Buffer, plaintext: string): string {
  const key = subKey(masterKey, 'secrets');
  const iv = randomBytes(12);
  const cipher = createCipheriv(algorithmFor(key), key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${ENCRYPTED_PREFIX}${Buffer.concat([iv, tag, body]).toString('base64url')})`;
}

export class DecryptionError extends Error {}

export function decryptSecret(masterKey: Buffer, value: string): string {
  if (!isEncrypted(value)) throw new DecryptionError('Value is not encrypted');
  const raw = Buffer.from(value.slice(ENCRYPTED_PREFIX.length, -1), 'base64url');
  if (raw.length < 28) throw new DecryptionError('Encrypted value is truncated');
  const key = subKey(masterKey, 'secrets');
  const decipher = createDecipheriv(algorithmFor(key), key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError('Cannot decrypt the value: it was encrypted with another master key or is corrupt');
  }
}

/** Decrypts when encrypted, otherwise returns the value as is. */
export function revealSecret(masterKey: Buffer, value: string): string {
  return isEncrypted(value) ? decryptSecret(masterKey, value) : value;
}

/** A fingerprint of the master key that reveals nothing about it (the seed's `kid`). */
export function masterKeyFingerprint(masterKey: Buffer): string {
  return createHash('sha256').update(subKey(masterKey, 'kid')).digest('hex').slice(0, 32);
}

/** A key derived from the master key for one purpose, e.g. signing tokens. */
export function deriveKey(masterKey: Buffer, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `arca:${purpose}`, length));
}
