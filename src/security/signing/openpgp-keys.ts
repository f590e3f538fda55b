/**
 * The OpenPGP side of metadata signing, on the `openpgp` library (OpenPGP.js v6): key
 * generation, reading and checking armored keys, the `Signer` of one unlocked key, and the
 * verification of detached and cleartext signatures. No storage here (key-store.ts).
 */
import * as openpgp from 'openpgp';
import type { Signer } from './signer.js';

/** A key pair checked and ready to store: armored parts and the fingerprint. */
export interface KeyMaterial {
  publicKeyArmored: string;
  /** The private key as given (still locked by its passphrase, if it has one). */
  privateKeyArmored: string;
  fingerprint: string;
}

/** A key that does not parse, does not match, or a passphrase that does not unlock it. */
export class KeyError extends Error {}

/**
 * Generates an RSA 3072 key pair (a v4 key: what apt's gpgv and dnf's gpgme on Debian 12
 * and RHEL-likes read everywhere), certifying and signing, without a passphrase (it is kept
 * encrypted with the master key instead). 0.4–3 s (measured), on Node's crypto thread pool.
 */
export async function generateKeyPair(userName: string, email?: string): Promise<KeyMaterial> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'rsa',
    rsaBits: 3072,
    userIDs: [email ? { name: userName, email } : { name: userName }],
    format: 'armored',
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { publicKeyArmored: publicKey, privateKeyArmored: privateKey, fingerprint: key.getFingerprint().toUpperCase() };
}

/** Reads one armored public key (a private key given here is refused: it belongs elsewhere). */
export async function readPublicKey(armored: string): Promise<{ key: openpgp.PublicKey; fingerprint: string; armored: string }> {
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch (err) {
    throw new KeyError(`The public key cannot be read: ${(err as Error).message}`);
  }
  if (key.isPrivate()) throw new KeyError('This is a private key, not a public key');
  return { key: key as openpgp.PublicKey, fingerprint: key.getFingerprint().toUpperCase(), armored: key.armor() };
}

/** Reads one armored private key (locked or not). */
export async function readPrivateKey(armored: string): Promise<{ key: openpgp.PrivateKey; fingerprint: string; publicKeyArmored: string; locked: boolean }> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (err) {
    throw new KeyError(`The private key cannot be read: ${(err as Error).message}`);
  }
  return { key, fingerprint: key.getFingerprint().toUpperCase(), publicKeyArmored: key.toPublic().armor(), locked: !key.isDecrypted() };
}

/** Unlocks a private key with its passphrase (none: the key must be unlocked already). */
export async function unlockPrivateKey(armored: string, passphrase: string | undefined): Promise<openpgp.PrivateKey> {
  const { key, locked } = await readPrivateKey(armored);
  if (!locked) return key;
  if (passphrase === undefined || passphrase === '') throw new KeyError('The private key is protected by a passphrase and none was given');
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch {
    throw new KeyError('The passphrase does not unlock the private key');
  }
}

/** Checks a pair as given by an administrator: the private key parses, matches the public key, and unlocks. */
export async function checkKeyPair(privateKeyArmored: string, publicKeyArmored: string | undefined, passphrase: string | undefined): Promise<KeyMaterial> {
  const priv = await readPrivateKey(privateKeyArmored);
  let publicArmored = priv.publicKeyArmored;
  if (publicKeyArmored !== undefined && publicKeyArmored.trim() !== '') {
    const pub = await readPublicKey(publicKeyArmored);
    if (pub.fingerprint !== priv.fingerprint) {
      throw new KeyError(`The private key (${priv.fingerprint}) does not match the public key (${pub.fingerprint})`);
    }
    publicArmored = pub.armored;
  }
  await unlockPrivateKey(privateKeyArmored, passphrase);
  const signing = await priv.key.getSigningKey().catch(() => undefined);
  if (!signing) throw new KeyError('The key has no valid signing (sub)key');
  return { publicKeyArmored: publicArmored, privateKeyArmored: priv.key.armor(), fingerprint: priv.fingerprint };
}

/**
 * The Signer of one unlocked private key, or of several (a repository's primary and secondary
 * key pairs: each signature then carries one signature per key, and apt and dnf accept it
 * with any one of the public keys, which lets clients move from one key to the next). The
 * fingerprint, key id and public key are the first (primary) key's.
 */
export class OpenPgpSigner implements Signer {
  readonly fingerprint: string;
  readonly keyId: string;

  constructor(
    private readonly keys: openpgp.PrivateKey[],
    readonly publicKeyArmored: string,
  ) {
    this.fingerprint = keys[0].getFingerprint().toUpperCase();
    this.keyId = this.fingerprint.slice(-16);
  }

  static async of(privateKeyArmored: string, passphrase: string | undefined, publicKeyArmored?: string): Promise<OpenPgpSigner> {
    const key = await unlockPrivateKey(privateKeyArmored, passphrase);
    return new OpenPgpSigner([key], publicKeyArmored ?? key.toPublic().armor());
  }

  /** Signs with this signer's keys and then `other`'s (a key already here is not used twice). */
  with(other: OpenPgpSigner): OpenPgpSigner {
    const mine = new Set(this.keys.map((k) => k.getFingerprint()));
    return new OpenPgpSigner([...this.keys, ...other.keys.filter((k) => !mine.has(k.getFingerprint()))], this.publicKeyArmored);
  }

  /** The fingerprints of every key that signs, primary first. */
  get fingerprints(): string[] {
    return this.keys.map((k) => k.getFingerprint().toUpperCase());
  }

  /**
   * As `gpg --clearsign` writes it: LF line ends (OpenPGP.js writes CRLF, which apt would keep
   * in the fields it parses; the signature covers the canonical CRLF text either way), and the
   * text's last line break doubling as the one before the signature.
   */
  async clearsign(text: string): Promise<string> {
    const body = text.replace(/\r\n/g, '\n');
    const message = await openpgp.createCleartextMessage({ text: body.endsWith('\n') ? body.slice(0, -1) : body });
    const signed = await openpgp.sign({ message, signingKeys: this.keys, format: 'armored' });
    return signed.replace(/\r\n/g, '\n');
  }

  async detachSign(data: Uint8Array | string): Promise<string> {
    const binary = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const message = await openpgp.createMessage({ binary });
    return openpgp.sign({ message, signingKeys: this.keys, detached: true, format: 'armored' });
  }
}

const KEY_BLOCK = /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g;

/** Every key in the armored text (one or several armored blocks, each with one or more keys), as public keys. */
export async function readVerificationKeys(armored: string): Promise<openpgp.PublicKey[]> {
  const out: openpgp.PublicKey[] = [];
  for (const block of armored.match(KEY_BLOCK) ?? []) {
    try {
      for (const k of await openpgp.readKeys({ armoredKeys: block })) out.push(k.isPrivate() ? (k as openpgp.PrivateKey).toPublic() : (k as openpgp.PublicKey));
    } catch {
      // A block that does not parse verifies nothing; the others still count.
    }
  }
  return out;
}

async function anyVerified(signatures: { verified: Promise<true> }[]): Promise<boolean> {
  for (const s of signatures) {
    try {
      if ((await s.verified) === true) return true;
    } catch {
      // Not by one of the keys, or bad: try the next signature.
    }
  }
  return false;
}

/** True only when one signature in `signatureArmored` is a good signature of `data` by one of the keys. */
export async function verifyDetachedSignature(data: Uint8Array | string, signatureArmored: string, publicKeysArmored: string): Promise<boolean> {
  const keys = await readVerificationKeys(publicKeysArmored);
  if (keys.length === 0) return false;
  try {
    const binary = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const signature = await openpgp.readSignature({ armoredSignature: signatureArmored });
    const message = await openpgp.createMessage({ binary });
    const result = await openpgp.verify({ message, signature, verificationKeys: keys, format: 'binary' });
    return anyVerified(result.signatures);
  } catch {
    return false;
  }
}

/**
 * The text of a cleartext-signed message when one of its signatures is good by one of the
 * keys, else null. The text ends with a line break, as `gpg --decrypt` prints it (the line
 * break before the signature belongs to the framing, the one before it to the text).
 */
export async function verifyClearsignedMessage(message: string, publicKeysArmored: string): Promise<string | null> {
  const keys = await readVerificationKeys(publicKeysArmored);
  if (keys.length === 0) return null;
  try {
    const cleartext = await openpgp.readCleartextMessage({ cleartextMessage: message });
    const result = await openpgp.verify({ message: cleartext, verificationKeys: keys });
    if (!(await anyVerified(result.signatures))) return null;
    const text = cleartext.getText();
    return text.endsWith('\n') ? text : `${text}\n`;
  } catch {
    return null;
  }
}
