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
  readPrivateKey,
  readPublicKey,
  unlockPrivateKey,
  verifyClearsignedMessage,
  verifyDetachedSignature,
  type KeyMaterial,
} from './openpgp-keys.js';
import type { Signer, SigningKeys } from './signer.js';

type Row = Selectable<SigningKeysTable>;

/** The row holding a default key uploaded piece by piece (`PUT /api/gpg/key/…`) until it is complete. */
export const UPLOAD_ROW = '.gpg-upload';
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

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** Runs `fn`, turning a key that does not parse, match or unlock into a 400. */
async function checked<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KeyError) throw bad(err.message);
    throw err;
  }
}

export interface SigningKeyStoreOptions {
  /** The user id of a generated key (`Arca repository signing key`). */
  generatedUserName?: string;
}

export class SigningKeyStore implements SigningKeys {
  /** Unlocked keys by pair name, and the default's name; both dropped on any security change. */
  private signers = new Map<string, Promise<OpenPgpSigner>>();
  private defaultSigner: Promise<OpenPgpSigner> | undefined;
  private readonly userName: string;

  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    private readonly masterKey: Buffer,
    private readonly repos: { get(key: string): Promise<RepoConfig | undefined> },
    options: SigningKeyStoreOptions = {},
  ) {
    this.userName = options.generatedUserName ?? 'Arca repository signing key';
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

  // --- the default key, uploaded through /api/gpg/key/… ----------------------------------------

  /** `PUT /api/gpg/key/public`: the public half of a new default key (or a refresh of the current one's). */
  async uploadPublic(armored: string): Promise<string> {
    const pub = await checked(() => readPublicKey(armored));
    const current = await this.readDefaultRow();
    if (current?.fingerprint === pub.fingerprint) {
      await this.versions.change('security', (trx) => trx.updateTable('signing_keys').set({ public_key: pub.armored, modified: this.clock.now() }).where('name', '=', current.name).execute());
      return `The public key of the default signing key ${pub.fingerprint} was updated`;
    }
    const staged = await this.row(UPLOAD_ROW);
    const keepPrivate = staged?.private_key && staged.fingerprint === pub.fingerprint;
    const next: Row = {
      ...(staged ?? this.emptyUpload()),
      public_key: pub.armored,
      fingerprint: pub.fingerprint,
      private_key: keepPrivate ? staged.private_key : null,
      passphrase: keepPrivate ? staged.passphrase : null,
      modified: this.clock.now(),
    };
    return this.stage(next);
  }

  /** `PUT /api/gpg/key/private`: must match the public key uploaded before (if any). */
  async uploadPrivate(armored: string): Promise<string> {
    const priv = await checked(() => readPrivateKey(armored));
    // A key that cannot sign (expired, revoked, no signing subkey) is refused now, not at the first signature.
    if (!(await priv.key.getSigningKey().catch(() => undefined))) throw bad(`The private key ${priv.fingerprint} has no valid signing (sub)key`);
    const staged = await this.row(UPLOAD_ROW);
    if (staged?.public_key && staged.fingerprint !== priv.fingerprint) {
      throw bad(`The private key (${priv.fingerprint}) does not match the public key uploaded (${staged.fingerprint})`);
    }
    const samePass = staged?.fingerprint === priv.fingerprint ? (staged?.passphrase ?? null) : null;
    const next: Row = {
      ...(staged ?? this.emptyUpload()),
      public_key: staged?.public_key ?? priv.publicKeyArmored,
      fingerprint: priv.fingerprint,
      private_key: encryptSecret(this.masterKey, priv.key.armor()),
      passphrase: samePass,
      modified: this.clock.now(),
    };
    return this.stage(next);
  }

  /** `PUT /api/gpg/key/passphrase`: unlocks the private key uploaded (or, with none pending, the default's). */
  async uploadPassphrase(passphrase: string): Promise<string> {
    const staged = await this.row(UPLOAD_ROW);
    if (staged?.private_key) {
      await checked(() => unlockPrivateKey(decryptSecret(this.masterKey, staged.private_key as string), passphrase));
      return this.stage({ ...staged, passphrase: encryptSecret(this.masterKey, passphrase), modified: this.clock.now() });
    }
    const current = await this.readDefaultRow();
    if (!current?.private_key) throw bad('There is no private key to unlock: upload it first (PUT /api/gpg/key/private)');
    await checked(() => unlockPrivateKey(decryptSecret(this.masterKey, current.private_key as string), passphrase));
    await this.versions.change('security', (trx) =>
      trx.updateTable('signing_keys').set({ passphrase: encryptSecret(this.masterKey, passphrase), modified: this.clock.now() }).where('name', '=', current.name).execute(),
    );
    return `The passphrase of the default signing key ${current.fingerprint} was updated`;
  }

  private emptyUpload(): Row {
    const now = this.clock.now();
    return { name: UPLOAD_ROW, alias: 'GPG key uploaded through /api/gpg/key', pair_type: 'GPG', public_key: null, private_key: null, passphrase: null, fingerprint: null, default_slot: null, created: now, modified: now };
  }

  /**
   * Keeps an upload; once it has a private key that unlocks (with its passphrase, when it has
   * one), it becomes the default key pair `gpg-<key id>` and the upload row goes.
   */
  private async stage(next: Row): Promise<string> {
    let complete = false;
    if (next.private_key) {
      const pass = next.passphrase ? decryptSecret(this.masterKey, next.passphrase) : undefined;
      complete = await unlockPrivateKey(decryptSecret(this.masterKey, next.private_key), pass).then(
        () => true,
        () => false,
      );
    }
    const fingerprint = next.fingerprint as string;
    const name = `gpg-${fingerprint.slice(-16).toLowerCase()}`;
    await this.versions.change('security', async (trx) => {
      await trx.deleteFrom('signing_keys').where('name', '=', UPLOAD_ROW).execute();
      if (!complete) {
        await trx.insertInto('signing_keys').values(next).execute();
        return;
      }
      await trx.updateTable('signing_keys').set({ default_slot: null }).where('default_slot', '=', 1).execute();
      const existing = await trx.selectFrom('signing_keys').select('name').where('fingerprint', '=', fingerprint).executeTakeFirst();
      const parts = { public_key: next.public_key, private_key: next.private_key, passphrase: next.passphrase, default_slot: 1, modified: this.clock.now() };
      if (existing) await trx.updateTable('signing_keys').set(parts).where('name', '=', existing.name).execute();
      else await trx.insertInto('signing_keys').values({ ...next, ...parts, name, alias: name }).execute();
    });
    if (complete) return `The default signing key is now ${fingerprint}`;
    if (!next.private_key) return `Public key ${fingerprint} stored; upload its private key (PUT /api/gpg/key/private) to make it the default signing key`;
    return `Private key ${fingerprint} stored; set its passphrase (PUT /api/gpg/key/passphrase) to make it the default signing key`;
  }
}
