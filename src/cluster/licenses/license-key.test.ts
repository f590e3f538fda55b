import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalType,
  displayDate,
  expiryOf,
  licenseHash,
  LicenseKeyError,
  newDocument,
  readPublicKey,
  signLicense,
  splitLicenseKeys,
  verifyLicense,
} from './license-key.js';

const pair = () => generateKeyPairSync('ed25519');
const NOW = Date.UTC(2026, 0, 1);

describe('license keys', () => {
  it('signs a document and verifies it with the public key (PEM or one-line base64 DER)', () => {
    const { privateKey, publicKey } = pair();
    const doc = newDocument('ACME Corp', 'Enterprise', '2027-05-15', NOW);
    const key = signLicense(doc, privateKey);
    expect(key).toMatch(/^arca1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const b64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    for (const pub of [readPublicKey(pem), readPublicKey(b64)]) {
      const v = verifyLicense(`  ${key}\n`, pub);
      expect(v.doc).toEqual(doc);
      expect(v.key).toBe(key);
      expect(v.hash).toBe(licenseHash(key));
      expect(v.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(v.expiresAt).toBe(Date.UTC(2027, 4, 16));
    }
  });

  it('refuses a key signed by another key, a changed document, a cut signature and garbage', () => {
    const { privateKey, publicKey } = pair();
    const other = pair();
    const key = signLicense(newDocument('ACME', 'Trial', '2026-02-01', NOW), privateKey);
    expect(() => verifyLicense(signLicense(newDocument('ACME', 'Trial', '2026-02-01', NOW), other.privateKey), publicKey)).toThrow(/signature does not match/);
    const [p, body, sig] = key.split('.');
    const forged = Buffer.from(Buffer.from(body, 'base64url').toString('utf8').replace('2026-02-01', '2099-02-01')).toString('base64url');
    expect(() => verifyLicense(`${p}.${forged}.${sig}`, publicKey)).toThrow(/signature does not match/);
    expect(() => verifyLicense(`${p}.${body}.${sig.slice(0, 20)}`, publicKey)).toThrow(/signature does not match/);
    for (const bad of ['', 'hello', 'arca1.abc', 'arca2.a.b', `${p}.${body}.${sig}.x`, `${p}.a b.${sig}`]) {
      expect(() => verifyLicense(bad, publicKey)).toThrow(LicenseKeyError);
    }
  });

  it('refuses to sign documents with a bad type or date', () => {
    const { privateKey } = pair();
    expect(() => signLicense({ ...newDocument('A', 'Enterprise', '2026-02-30', NOW) }, privateKey)).toThrow(/Invalid validThrough/);
    expect(() => signLicense({ ...newDocument('A', 'Enterprise', '2026-02-01', NOW), type: 'Pro' as never }, privateKey)).toThrow(/not one of/);
    expect(() => signLicense({ ...newDocument('', 'Enterprise', '2026-02-01', NOW) }, privateKey)).toThrow(/no 'licensedTo'/);
  });

  it('reads only Ed25519 public keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => readPublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow(/must be Ed25519, not rsa/);
    expect(() => readPublicKey('not a key')).toThrow(LicenseKeyError);
  });

  it('splits pasted keys on newlines, spaces, tabs and semicolons', () => {
    expect(splitLicenseKeys(' a\nb;c  d\r\n\te;;\n')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitLicenseKeys(' \n ')).toEqual([]);
  });

  it('formats dates as the seed shows them and computes the expiry at the end of the day (UTC)', () => {
    expect(displayDate('2018-05-15')).toBe('May 15, 2018');
    expect(displayDate('2027-01-02')).toBe('Jan 2, 2027');
    expect(expiryOf('2024-02-29')).toBe(Date.UTC(2024, 2, 1));
    expect(expiryOf('2023-02-29')).toBeUndefined();
    expect(expiryOf('2023-2-1')).toBeUndefined();
    expect(canonicalType('enterprise_plus')).toBe('Enterprise Plus');
    expect(canonicalType('TRIAL')).toBe('Trial');
    expect(canonicalType('pro')).toBeUndefined();
  });
});
