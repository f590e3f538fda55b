/**
 * The signing key store (docs/signing.md): OpenPGP key pairs in the shared database, the
 * private keys and passphrases encrypted with the master key and never returned; the
 * cluster's default key, generated once for the whole cluster on first use; and the per-node
 * cache of unlocked keys, dropped on every change to the security domain (ConfigVersions), so
 * a replaced key is used by every node within about a second (PostgreSQL NOTIFY: at once).
 */
import type { Selectable } from 'kysely';
import type { ConfigVersions } from '../../cluster/config-versions.js';
import type { Clock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import type { RepoConfig } from '../../core/repo-config.js';
import { decryptSecret, DecryptionError, encryptSecret } from '../../core/secrets.js';
import { isUniqueViolation } from '../../db/conflicts.js';
import type { Database } from '../../db/database.js';
import type { SigningKeysTable } from '../../db/schema-signing.js';
import {
  checkKeyPair,
  generateKeyPair,
  KeyError,
  OpenPgpSigner,
  verifyClearsignedMessage,
  verifyDetachedSignature,
  type KeyMaterial,
} from './openpgp-keys.js';
import { bad, checked, DefaultKeyUpload, UPLOAD_ROW } from './default-key-upload.js';
import type { Signer, SigningKeys } from './signer.js';

type Row = Selectable<SigningKeysTable>;

/** The name the generated default key gets (with its key id appended when the name is taken). */
export const GENERATED_NAME = 'arca-default';
/** A key pair's name: as a repository key. */
export const PAIR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What the API shows of a key pair: never the private key nor the passphrase. */
export interface KeyPairInfo {
  pairName: string;
  pairType: string;
  alias: string;
  publicKey: string;
  fingerprint: string;
  keyId: string;
  default: boolean;
  created: string;
}

export interface NewKeyPair {
  pairName: string;
  pairType?: string;
  alias?: string;
  privateKey?: string;
  publicKey?: string;
  passphrase?: string;
}

/** The repository field naming the key pair that signs it (the seed's Debian/RPM repository field). */
export const PRIMARY_KEY_PAIR_REF = 'primaryKeyPairRef';
/** The second key pair that signs it too (while clients move from one key to another). */
export const SECONDARY_KEY_PAIR_REF = 'secondaryKeyPairRef';

export interface SigningKeyStoreOptions {
  /** The user id of a generated key (`Arca repository signing key`). */
  generatedUserName?: string;
}

export class SigningKeyStore implements SigningKeys {
  /** Unlocked keys by pair name, and the default's name; both dropped on any security change. */
  private signers = new Map<string, Promise<OpenPgpSigner>>();
  private defaultSigner: Promise<OpenPgpSigner> | undefined;
  private readonly userName: string;
  private readonly upload: DefaultKeyUpload;

  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    private readonly masterKey: Buffer,
    private readonly repos: { get(key: string): Promise<RepoConfig | undefined> },
    options: SigningKeyStoreOptions = {},
  ) {
    this.userName = options.generatedUserName ?? 'Arca repository signing key';
    this.upload = new DefaultKeyUpload(database, versions, clock, masterKey);
    versions.on('security', () => this.forget());
  }

  /** Drops this node's unlocked keys (they are read again on next use). */
  forget(): void {
    this.signers = new Map();
    this.defaultSigner = undefined;
  }

  // --- SigningKeys ---------------------------------------------------------------------------

  /** True when a key pair of that name exists (repository configuration checks its key pair names). */
  async exists(name: string): Promise<boolean> {
    return name !== UPLOAD_ROW && (await this.row(name)) !== undefined;
  }

  /**
   * The repository's `primaryKeyPairRef` pair (else the default key), signing together with
   * its `secondaryKeyPairRef` pair when it names one (two signatures in each signature block).
   */
  async forRepository(repoKey: string): Promise<Signer> {
    const repo = await this.repos.get(repoKey);
    if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${repoKey}' not found`);
    // Both names are checked before the default key is read (or generated).
    const named = await this.referenced(repo, PRIMARY_KEY_PAIR_REF);
    const secondary = await this.referenced(repo, SECONDARY_KEY_PAIR_REF);
    const primary = named ?? (await this.loadDefaultSigner());
    return secondary ? primary.with(secondary) : primary;
  }

  private async referenced(repo: RepoConfig, field: string): Promise<OpenPgpSigner | undefined> {
    const ref = repo[field];
    if (typeof ref !== 'string' || ref === '') return undefined;
    const signer = await this.named(ref);
    if (!signer) {
      throw new ArcaError('INVALID_CONFIG', `Repository '${repo.key}' is signed by key pair '${ref}' (${field}), which does not exist or has no private key`, { field });
    }
    return signer;
  }

  verifyDetached(data: Uint8Array | string, signatureArmored: string, publicKeysArmored: string): Promise<boolean> {
    return verifyDetachedSignature(data, signatureArmored, publicKeysArmored);
  }

  verifyClearsigned(message: string, publicKeysArmored: string): Promise<string | null> {
    return verifyClearsignedMessage(message, publicKeysArmored);
  }

  // --- the default key -----------------------------------------------------------------------

  /** The cluster's default key; generated (once for the cluster) when there is none. */
  defaultKey(): Promise<Signer> {
    return this.loadDefaultSigner();
  }

  private loadDefaultSigner(): Promise<OpenPgpSigner> {
    if (!this.defaultSigner) {
      const p = this.loadDefault();
      this.defaultSigner = p;
      p.catch(() => {
        if (this.defaultSigner === p) this.defaultSigner = undefined;
      });
    }
    return this.defaultSigner;
  }

  private readDefaultRow(): Promise<Row | undefined> {
    return this.database.db.selectFrom('signing_keys').selectAll().where('default_slot', '=', 1).executeTakeFirst();
  }

  private async loadDefault(): Promise<OpenPgpSigner> {
    const row = (await this.readDefaultRow()) ?? (await this.generateDefault());
    return this.unlock(row);
  }

  /**
   * Generates a key and offers it as the default: the unique `default_slot` lets one insert
   * win when nodes race; every node then reads the winner back and signs with it.
   */
  private async generateDefault(): Promise<Row> {
    const made = await generateKeyPair(this.userName);
    for (const name of [GENERATED_NAME, `${GENERATED_NAME}-${made.fingerprint.slice(-16).toLowerCase()}`]) {
      try {
        await this.versions.change('security', (trx) => trx.insertInto('signing_keys').values(this.rowOf(name, this.userName, made, undefined, 1)).execute());
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const winner = await this.readDefaultRow();
      if (winner) return winner;
      // The name is held by a key pair that is not the default: try the other name.
    }
    throw new Error('The default signing key could not be stored');
  }

  // --- key pairs -----------------------------------------------------------------------------

  private rowOf(name: string, alias: string, key: KeyMaterial, passphrase: string | undefined, defaultSlot: number | null): Row {
    const now = this.clock.now();
    return {
      name,
      alias,
      pair_type: 'GPG',
      public_key: key.publicKeyArmored,
      private_key: encryptSecret(this.masterKey, key.privateKeyArmored),
      passphrase: passphrase ? encryptSecret(this.masterKey, passphrase) : null,
      fingerprint: key.fingerprint,
      default_slot: defaultSlot,
      created: now,
      modified: now,
    };
  }

  private async unlock(row: Row): Promise<OpenPgpSigner> {
    if (!row.private_key) throw new ArcaError('INVALID_CONFIG', `Key pair '${row.name}' has no private key`);
    let priv: string;
    let pass: string | undefined;
    try {
      priv = decryptSecret(this.masterKey, row.private_key);
      pass = row.passphrase ? decryptSecret(this.masterKey, row.passphrase) : undefined;
    } catch (err) {
      if (err instanceof DecryptionError) throw new ArcaError('MISCONFIGURED', `Key pair '${row.name}' cannot be decrypted with this node's master key: ${err.message}`);
      throw err;
    }
    try {
      return await OpenPgpSigner.of(priv, pass, row.public_key ?? undefined);
    } catch (err) {
      if (err instanceof KeyError) throw new ArcaError('INVALID_CONFIG', `Key pair '${row.name}' cannot sign: ${err.message}`);
      throw err;
    }
  }

  /** The signer of a named pair; undefined when there is no such pair with a private key. */
  private async named(name: string): Promise<OpenPgpSigner | undefined> {
    const cache = this.signers;
    let p = cache.get(name);
    if (!p) {
      const row = await this.row(name);
      if (!row?.private_key || name === UPLOAD_ROW) return undefined;
      p = this.unlock(row);
      // Kept only in the cache it was read for: a change meanwhile replaced that cache.
      cache.set(name, p);
      p.catch(() => cache.delete(name));
    }
    return p;
  }

  private row(name: string): Promise<Row | undefined> {
    return this.database.db.selectFrom('signing_keys').selectAll().where('name', '=', name).executeTakeFirst();
  }

  private info(row: Row): KeyPairInfo {
    const fingerprint = row.fingerprint ?? '';
    return {
      pairName: row.name,
      pairType: row.pair_type,
      alias: row.alias,
      publicKey: row.public_key ?? '',
      fingerprint,
      keyId: fingerprint.slice(-16),
      default: row.default_slot === 1,
      created: new Date(Number(row.created)).toISOString(),
    };
  }

  async list(): Promise<KeyPairInfo[]> {
    const rows = await this.database.db.selectFrom('signing_keys').selectAll().where('name', '!=', UPLOAD_ROW).orderBy('name').execute();
    return rows.map((r) => this.info(r));
  }

  async get(name: string): Promise<KeyPairInfo> {
    const row = name === UPLOAD_ROW ? undefined : await this.row(name);
    if (!row) throw new ArcaError('NOT_FOUND', `Key pair '${name}' does not exist`);
    return this.info(row);
  }

  /** Creates a key pair from the parts given (checked), or a generated one when neither key is given. */
  async create(input: NewKeyPair): Promise<KeyPairInfo> {
    const { pairName } = input;
    if (!PAIR_NAME.test(pairName)) throw bad(`'pairName' must start with a letter or digit and hold at most 64 letters, digits, dots, dashes or underscores`);
    const pairType = (input.pairType ?? 'GPG').toUpperCase();
    if (pairType !== 'GPG') throw bad(`'pairType' must be GPG (got '${input.pairType}')`);
    const alias = input.alias ?? pairName;
    let key: KeyMaterial;
    if (input.privateKey === undefined) {
      if (input.publicKey !== undefined) throw bad(`'privateKey' is required with 'publicKey' (give neither to generate a key pair)`);
      key = await generateKeyPair(alias);
    } else {
      key = await checked(() => checkKeyPair(input.privateKey as string, input.publicKey, input.passphrase));
    }
    const row = this.rowOf(pairName, alias, key, input.privateKey === undefined ? undefined : input.passphrase, null);
    try {
      await this.versions.change('security', (trx) => trx.insertInto('signing_keys').values(row).execute());
    } catch (err) {
      if (isUniqueViolation(err)) throw new ArcaError('ALREADY_EXISTS', `Key pair '${pairName}' already exists`);
      throw err;
    }
    return this.info(row);
  }

  /** Deletes a key pair no repository names; deleting the default makes the next signature generate a new one. */
  async delete(name: string, repositories: RepoConfig[]): Promise<void> {
    await this.get(name);
    const users = repositories.filter((r) => r[PRIMARY_KEY_PAIR_REF] === name || r[SECONDARY_KEY_PAIR_REF] === name).map((r) => r.key);
    if (users.length > 0) throw new ArcaError('CONFLICT', `Key pair '${name}' is named by repositories ${users.join(', ')}: point them at another key pair first`);
    await this.versions.change('security', (trx) => trx.deleteFrom('signing_keys').where('name', '=', name).execute());
  }

  // --- the default key, uploaded through /api/gpg/key/… (default-key-upload.ts) --------------

  uploadPublic(armored: string): Promise<string> {
    return this.upload.uploadPublic(armored);
  }

  uploadPrivate(armored: string): Promise<string> {
    return this.upload.uploadPrivate(armored);
  }

  uploadPassphrase(passphrase: string): Promise<string> {
    return this.upload.uploadPassphrase(passphrase);
  }
}
