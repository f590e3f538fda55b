import { randomBytes } from 'node:crypto';
import type { ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { sha256Hex } from '../core/digests.js';
import { ArcaError } from '../core/errors.js';
import { decryptSecret, encryptSecret } from '../core/secrets.js';
import type { Database } from '../db/database.js';

/** API keys start like JFrog's (`AKC`), which is how Basic auth tells one from a password. */
export const API_KEY_PREFIX = 'AKC';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 70;

/** 70 characters from a 62-letter alphabet (about 416 bits), without modulo bias. */
export function newApiKey(): string {
  let out = API_KEY_PREFIX;
  while (out.length < API_KEY_PREFIX.length + LENGTH) {
    for (const b of randomBytes(LENGTH)) {
      if (b < 248 && out.length < API_KEY_PREFIX.length + LENGTH) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/**
 * One API key per user, stored twice: encrypted with the master key (so its owner can read
 * it back) and as a SHA-256 hash (so a request's key is found with one indexed lookup).
 */
export class ApiKeyService {
  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    /** Encrypts the keys at rest, so their owners can read them back. */
    private readonly masterKey: Buffer,
  ) {}

  async get(user: string): Promise<string | undefined> {
    const row = await this.database.db.selectFrom('users').select('api_key_enc').where('name', '=', user).executeTakeFirst();
    if (!row?.api_key_enc) return undefined;
    return decryptSecret(this.masterKey, row.api_key_enc);
  }

  /** 'create' refuses when the user has a key (409); 'regenerate' replaces any key. */
  async create(user: string, mode: 'create' | 'regenerate'): Promise<string> {
    const value = newApiKey();
    const enc = encryptSecret(this.masterKey, value);
    await this.versions.change('security', async (trx) => {
      const row = await trx.selectFrom('users').select('api_key_hash').where('name', '=', user).executeTakeFirst();
      if (!row) throw new ArcaError('NOT_FOUND', `User '${user}' does not exist`);
      if (row.api_key_hash && mode === 'create') throw new ArcaError('ALREADY_EXISTS', `User '${user}' already has an API key; use PUT to regenerate it`);
      await trx.updateTable('users').set({ api_key_enc: enc, api_key_hash: sha256Hex(value), modified: this.clock.now() }).where('name', '=', user).execute();
    });
    return value;
  }

  /** Returns false when the user had no key. */
  async revoke(user: string): Promise<boolean> {
    return this.versions.change('security', async (trx) => {
      const res = await trx.updateTable('users').set({ api_key_enc: null, api_key_hash: null }).where('name', '=', user).where('api_key_hash', 'is not', null).executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    });
  }

  async revokeAll(): Promise<number> {
    return this.versions.change('security', async (trx) => {
      const res = await trx.updateTable('users').set({ api_key_enc: null, api_key_hash: null }).where('api_key_hash', 'is not', null).executeTakeFirst();
      return Number(res.numUpdatedRows);
    });
  }

  /** The owner of a key, or undefined. */
  async owner(apiKey: string): Promise<string | undefined> {
    if (!apiKey.startsWith(API_KEY_PREFIX)) return undefined;
    const row = await this.database.db.selectFrom('users').select('name').where('api_key_hash', '=', sha256Hex(apiKey)).executeTakeFirst();
    return row?.name;
  }

}
