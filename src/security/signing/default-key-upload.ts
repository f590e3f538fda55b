/**
 * The default signing key uploaded piece by piece, as the seed's `PUT /api/gpg/key/public`,
 * `…/private` and `…/passphrase` take it (docs/signing.md): the parts wait in the row
 * `.gpg-upload` until the private key is there and unlocks; then the pair becomes the default
 * (`gpg-<key id>`) in one transaction, and the previous default stays as a named pair.
 */
import type { Selectable } from 'kysely';
import type { ConfigVersions } from '../../cluster/config-versions.js';
import type { Clock } from '../../core/clock.js';
import { decryptSecret, encryptSecret } from '../../core/secrets.js';
import type { Database } from '../../db/database.js';
import type { SigningKeysTable } from '../../db/schema-signing.js';
import { ArcaError } from '../../core/errors.js';
import { KeyError, readPrivateKey, readPublicKey, unlockPrivateKey } from './openpgp-keys.js';

type Row = Selectable<SigningKeysTable>;

/** The row holding a default key uploaded piece by piece (`PUT /api/gpg/key/…`) until it is complete. */
export const UPLOAD_ROW = '.gpg-upload';

/** A 400 with the JFrog error body. */
export function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** Runs `fn`, turning a key that does not parse, match or unlock into a 400. */
export async function checked<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KeyError) throw bad(err.message);
    throw err;
  }
}

/** The upload's steps; each change is one transaction that bumps the 'security' version. */
export class DefaultKeyUpload {
  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    private readonly masterKey: Buffer,
  ) {}

  private row(name: string): Promise<Row | undefined> {
    return this.database.db.selectFrom('signing_keys').selectAll().where('name', '=', name).executeTakeFirst();
  }

  private readDefaultRow(): Promise<Row | undefined> {
    return this.database.db.selectFrom('signing_keys').selectAll().where('default_slot', '=', 1).executeTakeFirst();
  }

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
