import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../core/errors.js';

/** Parses a master key file's text: 32 hex characters (AES-128) or 64 (AES-256). */
export function parseMasterKey(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]+$/.test(hex) || (hex.length !== 32 && hex.length !== 64)) {
    throw new ConfigError(
      `Malformed master key in ${file}: expected 32 or 64 hexadecimal characters (as printed by 'openssl rand -hex 16'), found ${hex.length} characters`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/**
 * Loads `etc/security/master.key`, creating a new AES-128 key (mode 0600) when the file is
 * absent and `create` is allowed.
 */
export function loadMasterKey(file: string, create: boolean): { key: Buffer; created: boolean } {
  if (existsSync(file)) return { key: parseMasterKey(readFileSync(file, 'utf8'), file), created: false };
  if (!create) {
    throw new ConfigError(`Master key file ${file} is missing: copy it from an existing node of the cluster`);
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(16);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, created: true };
}
