import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { SystemConfig } from '../../config/system-yaml.js';
import { licenseSettings } from './license-settings.js';

const pem = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) => k.export({ type: 'spki', format: 'pem' }).toString();

describe('license settings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'arca-license-settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is off without a key, with the defaults of the other keys', () => {
    expect(licenseSettings(new SystemConfig({}, {}), dir)).toEqual({ expiryWindowMs: 7 * 86_400_000, checkMs: 5000 });
  });

  it('reads etc/security/license-public.pem; system.yaml (or its environment variable) wins over the file', () => {
    const fileKey = generateKeyPairSync('ed25519').publicKey;
    const yamlKey = generateKeyPairSync('ed25519').publicKey;
    writeFileSync(join(dir, 'license-public.pem'), pem(fileKey));
    const fromFile = licenseSettings(new SystemConfig({}, {}), dir);
    expect(fromFile.keySource).toBe(join(dir, 'license-public.pem'));
    expect(fromFile.publicKey?.equals(fileKey)).toBe(true);
    const fromYaml = licenseSettings(new SystemConfig({ arca: { license: { publicKey: pem(yamlKey), expiryWindowDays: 14 } } }, {}), dir);
    expect(fromYaml).toMatchObject({ keySource: 'system.yaml arca.license.publicKey', expiryWindowMs: 14 * 86_400_000 });
    expect(fromYaml.publicKey?.equals(yamlKey)).toBe(true);
    const b64 = yamlKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(licenseSettings(new SystemConfig({}, { ARCA_LICENSE_PUBLICKEY: b64 }), dir).publicKey?.equals(yamlKey)).toBe(true);
  });

  it('stops start-up on a key that is not Ed25519 or not a key, and on bad numbers', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    writeFileSync(join(dir, 'license-public.pem'), pem(rsa));
    expect(() => licenseSettings(new SystemConfig({}, {}), dir)).toThrow(ConfigError);
    expect(() => licenseSettings(new SystemConfig({}, {}), dir)).toThrow(/license-public.pem\): The license public key must be Ed25519, not rsa/);
    expect(() => licenseSettings(new SystemConfig({}, { ARCA_LICENSE_PUBLICKEY: 'bm9wZQ==' }), dir)).toThrow(/arca.license.publicKey\): Not a public key/);
    expect(() => licenseSettings(new SystemConfig({}, { ARCA_LICENSE_CHECKINTERVALSECS: '0' }), mkdtempSync(join(dir, 'x')))).toThrow(/checkIntervalSecs must be positive/);
  });
});
