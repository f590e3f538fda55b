/** OpenPGP key pairs that sign repository metadata (migration 0023, docs/signing.md). */
export interface SigningKeysTable {
  /** The key pair's name (`pairName`); `.gpg-upload` holds a default key being uploaded piece by piece. */
  name: string;
  alias: string;
  /** 'GPG'. */
  pair_type: string;
  /** ASCII-armored public key; null only while an upload has no public part yet. */
  public_key: string | null;
  /** ASCII-armored private key encrypted with the master key (`ENC(v1:…)`); never returned. */
  private_key: string | null;
  /** The private key's passphrase encrypted with the master key; null when it has none. */
  passphrase: string | null;
  /** Upper-case hex fingerprint of the primary key. */
  fingerprint: string | null;
  /** 1 on the default key, null elsewhere (unique). */
  default_slot: number | null;
  created: number;
  modified: number;
}
