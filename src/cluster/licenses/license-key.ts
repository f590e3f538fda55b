import { createHash, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/**
 * A license is a signed document encoded as one key string without spaces:
 *
 *     arca1.<base64url(JSON document)>.<base64url(Ed25519 signature)>
 *
 * The signature covers the ASCII text `arca1.<base64url(JSON document)>`. The key contains
 * only `[A-Za-z0-9_.-]`, so several keys can be pasted separated by newlines, spaces or
 * semicolons. Its hash (SHA-256 of the key string, hex) names it in the pool and the REST API.
 */
export const KEY_PREFIX = 'arca1';

/** License types a node accepts from the pool (the seed's HA needs Enterprise licenses). */
export const LICENSE_TYPES = ['Enterprise', 'Enterprise Plus', 'Trial'] as const;
export type LicenseType = (typeof LICENSE_TYPES)[number];

export interface LicenseDocument {
  /** Format version of the document. */
  v: 1;
  /** Unique id given by the issuer (two licenses for the same holder and date differ by it). */
  id: string;
  licensedTo: string;
  type: LicenseType;
  /** Last day (UTC) on which the license is valid, `YYYY-MM-DD`. */
  validThrough: string;
  /** When it was issued (ISO 8601). */
  issuedAt: string;
}

export interface VerifiedLicense {
  key: string;
  hash: string;
  doc: LicenseDocument;
  /** Start of the day after `validThrough` (UTC), in epoch ms: the license is expired from then on. */
  expiresAt: number;
}

/** A key that is malformed, not signed by the configured key, or describes an unusable license. */
export class LicenseKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LicenseKeyError';
  }
}

const DAY_MS = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Splits pasted text into keys: newlines, spaces, tabs, commas and semicolons all separate. */
export function splitLicenseKeys(text: string): string[] {
  return text.split(/[\s;,]+/).filter((k) => k !== '');
}

/** `YYYY-MM-DD` → the epoch ms at which a license valid through that day expires; undefined when invalid. */
export function expiryOf(validThrough: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(validThrough);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(y, mo - 1, d);
  const back = new Date(start);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return start + DAY_MS;
}

/** `2018-05-15` → `May 15, 2018` (the seed's "Valid Through" column and REST field). */
export function displayDate(validThrough: string): string {
  const [y, mo, d] = validThrough.split('-').map(Number);
  return `${MONTHS[mo - 1]} ${d}, ${y}`;
}

/** The name of a key in the pool: SHA-256 of the key string, hex. */
export function licenseHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Accepts a type case-insensitively and returns its canonical spelling. */
export function canonicalType(raw: string): LicenseType | undefined {
  const want = raw.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  return LICENSE_TYPES.find((t) => t.toLowerCase() === want);
}

/** Reads a public key: PEM (SPKI), or the base64 of its DER on one line. Must be Ed25519. */
export function readPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new LicenseKeyError(`Not a public key (PEM, or base64 of the DER SubjectPublicKeyInfo): ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LicenseKeyError(`The license public key must be Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function checkDocument(raw: unknown): LicenseDocument {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new LicenseKeyError('The license document is not a JSON object');
  const d = raw as Record<string, unknown>;
  if (d.v !== 1) throw new LicenseKeyError(`Unsupported license document version ${JSON.stringify(d.v)}`);
  for (const f of ['id', 'licensedTo', 'type', 'validThrough', 'issuedAt']) {
    if (typeof d[f] !== 'string' || (d[f] as string).trim() === '') throw new LicenseKeyError(`The license document has no '${f}'`);
  }
  const type = canonicalType(d.type as string);
  if (!type || type !== d.type) throw new LicenseKeyError(`License type '${String(d.type)}' is not one of ${LICENSE_TYPES.join(', ')}`);
  if (expiryOf(d.validThrough as string) === undefined) throw new LicenseKeyError(`Invalid validThrough '${String(d.validThrough)}' (YYYY-MM-DD)`);
  return { v: 1, id: d.id as string, licensedTo: d.licensedTo as string, type, validThrough: d.validThrough as string, issuedAt: d.issuedAt as string };
}

/** Signs a document with an Ed25519 private key and returns its key string. */
export function signLicense(doc: LicenseDocument, privateKey: KeyObject): string {
  const checked = checkDocument(doc);
  const body = `${KEY_PREFIX}.${b64url(JSON.stringify(checked))}`;
  return `${body}.${b64url(sign(null, Buffer.from(body, 'ascii'), privateKey))}`;
}

/** A new document with a random id, for `arca license issue`. */
export function newDocument(licensedTo: string, type: LicenseType, validThrough: string, now: number): LicenseDocument {
  return { v: 1, id: randomUUID(), licensedTo, type, validThrough, issuedAt: new Date(now).toISOString() };
}

/** Parses a key string and checks its signature against `publicKey`. Throws LicenseKeyError. */
export function verifyLicense(key: string, publicKey: KeyObject): VerifiedLicense {
  const k = key.trim();
  const parts = k.split('.');
  if (parts.length !== 3 || parts[0] !== KEY_PREFIX || !/^[A-Za-z0-9_-]+$/.test(parts[1]) || !/^[A-Za-z0-9_-]+$/.test(parts[2])) {
    throw new LicenseKeyError(`Not a license key (expected ${KEY_PREFIX}.<document>.<signature>)`);
  }
  const signature = Buffer.from(parts[2], 'base64url');
  if (signature.length !== 64 || !verify(null, Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), publicKey, signature)) {
    throw new LicenseKeyError('The license signature does not match the configured license public key');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new LicenseKeyError('The license document is not valid JSON');
  }
  const doc = checkDocument(raw);
  return { key: k, hash: licenseHash(k), doc, expiresAt: expiryOf(doc.validThrough)! };
}
