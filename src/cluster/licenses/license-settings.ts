import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import type { SystemConfig } from '../../config/system-yaml.js';
import { LicenseKeyError, readPublicKey } from './license-key.js';

/** `etc/security/license-public.pem`: the license public key when system.yaml names none. */
export const PUBLIC_KEY_FILE = 'license-public.pem';
/** `etc/artifactory.cluster.license`: the seed's bootstrap file of cluster licenses. */
export const BOOTSTRAP_FILE = 'artifactory.cluster.license';

const DAY_MS = 86_400_000;

export interface LicenseSettings {
  /** The key licenses must be signed with; undefined: the license manager is off. */
  publicKey?: KeyObject;
  /** Where the key came from (`system.yaml arca.license.publicKey` or the file). */
  keySource?: string;
  expiryWindowMs: number;
  checkMs: number;
}

/**
 * The license manager's settings: `arca.license.publicKey` (PEM, or base64 DER on one line)
 * wins; otherwise `etc/security/license-public.pem` when it exists; otherwise the manager is
 * off. An unreadable or non-Ed25519 key stops start-up.
 */
export function licenseSettings(system: SystemConfig, securityDir: string): LicenseSettings {
  const expiryWindowMs = system.number('arca.license.expiryWindowDays') * DAY_MS;
  const checkMs = system.number('arca.license.checkIntervalSecs') * 1000;
  if (!(expiryWindowMs >= 0)) throw new ConfigError('arca.license.expiryWindowDays must not be negative');
  if (!(checkMs > 0)) throw new ConfigError('arca.license.checkIntervalSecs must be positive');
  const inline = system.string('arca.license.publicKey');
  const file = join(securityDir, PUBLIC_KEY_FILE);
  let text: string | undefined;
  let keySource: string | undefined;
  if (inline !== undefined && inline.trim() !== '') {
    text = inline;
    keySource = 'system.yaml arca.license.publicKey';
  } else if (existsSync(file)) {
    text = readFileSync(file, 'utf8');
    keySource = file;
  }
  if (text === undefined) return { expiryWindowMs, checkMs };
  try {
    return { publicKey: readPublicKey(text), keySource, expiryWindowMs, checkMs };
  } catch (err) {
    if (err instanceof LicenseKeyError) throw new ConfigError(`License public key (${keySource}): ${err.message}`);
    throw err;
  }
}
