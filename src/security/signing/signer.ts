/**
 * OpenPGP signing of repository metadata (Debian Release/InRelease, RPM repomd.xml), as the
 * formats see it. The implementation (key pairs stored encrypted with the master key,
 * generated or imported through the REST API) lives beside this file; formats only get a
 * `SigningKeys` through `FormatServiceDeps.signing`.
 */
export interface Signer {
  /** The key's fingerprint, upper-case hex (40 characters for a v4 key). */
  readonly fingerprint: string;
  /** The long key id (last 16 hex characters of the fingerprint), upper case. */
  readonly keyId: string;
  /** The ASCII-armored public key, as `gpg --armor --export` prints it. */
  readonly publicKeyArmored: string;
  /** A cleartext-signed message (`gpg --clearsign`): Debian's `InRelease`. */
  clearsign(text: string): Promise<string>;
  /** An ASCII-armored detached signature of `data` (`gpg -abs`): `Release.gpg`, `repomd.xml.asc`. */
  detachSign(data: Uint8Array | string): Promise<string>;
}

export interface SigningKeys {
  /**
   * The key that signs `repoKey`'s metadata: the key pair the repository names (its
   * `primaryKeyPairRef`), else the node's shared default key, which is generated once for
   * the whole cluster on first use.
   */
  forRepository(repoKey: string): Promise<Signer>;
  /**
   * Checks an armored detached signature of `data` against armored public keys (a remote
   * repository's configured upstream key). True only for a good signature by one of them.
   */
  verifyDetached(data: Uint8Array | string, signatureArmored: string, publicKeysArmored: string): Promise<boolean>;
  /**
   * Checks a cleartext-signed message (an upstream `InRelease`) against armored public keys;
   * the signed text when the signature is good, else null.
   */
  verifyClearsigned(message: string, publicKeysArmored: string): Promise<string | null>;
}

/** Until a node wires the real key store: every call fails clearly. */
export const NO_SIGNING_KEYS: SigningKeys = {
  forRepository: () => Promise.reject(new Error('Metadata signing is not configured on this node')),
  verifyDetached: () => Promise.reject(new Error('Metadata signing is not configured on this node')),
  verifyClearsigned: () => Promise.reject(new Error('Metadata signing is not configured on this node')),
};
