import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import { decryptSecret, encryptSecret } from '../core/secrets.js';
import type { Database } from '../db/database.js';
import type { Db } from '../db/items.js';
import { orIgnore } from '../db/dialect.js';

const SIGNING_KEY = 'security.accessTokens.signingKey';
const SERVICE_ID = 'security.accessTokens.serviceId';
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export interface TokenIdentity {
  /** HS256 key shared by every node (stored encrypted with the master key). */
  key: Buffer;
  kid: string;
  /** `jfrt@<id>`: the issuer, and the prefix of every subject. */
  issuer: string;
}

function serviceId(): string {
  const bytes = randomBytes(26);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

/**
 * The token signing key and service id. Each is generated once, by whichever node needs it
 * first (insert-if-absent, then read back, so concurrent nodes agree), and kept in
 * `system_config`; the key is encrypted with the master key, which every node shares.
 */
export class TokenKeys {
  private identity: TokenIdentity | undefined;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    /** Encrypts the signing key at rest. */
    private readonly masterKey: Buffer,
  ) {}

  async get(): Promise<TokenIdentity> {
    if (this.identity) return this.identity;
    const masterKey = this.masterKey;
    const db = this.database.db;
    const now = this.clock.now();
    for (const [k, make] of [
      [SIGNING_KEY, () => encryptSecret(masterKey, randomBytes(32).toString('base64url'))],
      [SERVICE_ID, serviceId],
    ] as const) {
      await orIgnore(db, db.insertInto('system_config').values({ config_key: k, config_value: make(), modified: now }), 'config_key')
        .execute();
    }
    const rows = await db.selectFrom('system_config').select(['config_key', 'config_value']).where('config_key', 'in', [SIGNING_KEY, SERVICE_ID]).execute();
    const value = (k: string) => rows.find((r) => r.config_key === k)?.config_value ?? '';
    let key: Buffer;
    try {
      key = Buffer.from(decryptSecret(masterKey, value(SIGNING_KEY)), 'base64url');
    } catch (err) {
      throw new ArcaError('UNAVAILABLE', 'The access token signing key cannot be decrypted with this node\'s master key', undefined, err);
    }
    const kid = createHash('sha256').update(key).digest('hex').slice(0, 20);
    this.identity = { key, kid, issuer: `jfrt@${value(SERVICE_ID)}` };
    return this.identity;
  }

  /** The issuer when it exists already, read through `db` (usable inside a transaction). */
  async existingIssuer(db: Db): Promise<string | undefined> {
    if (this.identity) return this.identity.issuer;
    const row = await db.selectFrom('system_config').select('config_value').where('config_key', '=', SERVICE_ID).executeTakeFirst();
    return row ? `jfrt@${row.config_value}` : undefined;
  }
}

export function subjectOf(issuer: string, user: string): string {
  return `${issuer}/users/${user}`;
}

/** The user name of a subject issued by `issuer`, else undefined. */
export function userOfSubject(issuer: string, subject: string): string | undefined {
  const prefix = `${issuer}/users/`;
  return subject.startsWith(prefix) && subject.length > prefix.length ? subject.slice(prefix.length) : undefined;
}
