import { createHmac, timingSafeEqual } from 'node:crypto';

/** The claims of an Arca access token, in the shape the JFrog CLI decodes. */
export interface TokenClaims {
  /** `jfrt@<service-id>/users/<name>` */
  sub: string;
  /** The scope, space separated. */
  scp: string;
  aud: string;
  iss: string;
  iat: number;
  /** Absent for tokens that never expire. */
  exp?: number;
  /** The token id. */
  jti: string;
}

/** Three base64url parts whose first two are JSON objects (`{"` encodes as `eyJ`). */
export const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

function mac(key: Buffer, input: string): Buffer {
  return createHmac('sha256', key).update(input).digest();
}

/** Signs claims with HS256. */
export function signJwt(claims: TokenClaims, key: Buffer, kid: string): string {
  const input = `${b64({ typ: 'JWT', alg: 'HS256', kid })}.${b64(claims)}`;
  return `${input}.${mac(key, input).toString('base64url')}`;
}

function parsePart(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function claimsOf(c: Record<string, unknown>): TokenClaims | undefined {
  const str = (k: string) => typeof c[k] === 'string';
  if (!str('sub') || !str('scp') || !str('aud') || !str('iss') || !str('jti') || typeof c.iat !== 'number') return undefined;
  if (c.exp !== undefined && typeof c.exp !== 'number') return undefined;
  return c as unknown as TokenClaims;
}

/**
 * The claims when the token is an HS256 JWT signed with `key`, else undefined. Expiry and
 * revocation are the caller's to check.
 */
export function verifyJwt(token: string, key: Buffer): TokenClaims | undefined {
  if (!JWT_SHAPE.test(token)) return undefined;
  const [h, p, s] = token.split('.');
  const header = parsePart(h);
  if (!header || header.alg !== 'HS256') return undefined;
  const expected = mac(key, `${h}.${p}`);
  const actual = Buffer.from(s, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
  const payload = parsePart(p);
  return payload ? claimsOf(payload) : undefined;
}
