import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { canonicalType, expiryOf, LICENSE_TYPES, newDocument, signLicense } from '../cluster/licenses/license-key.js';
import { PUBLIC_KEY_FILE } from '../cluster/licenses/license-settings.js';

export const PRIVATE_KEY_FILE = 'license-private.pem';

export const LICENSE_USAGE = `Usage: arca license keygen|issue [options]

  keygen --out DIR [--force]
      Write a new Ed25519 key pair: DIR/${PRIVATE_KEY_FILE} (keep it secret; mode 0600)
      and DIR/${PUBLIC_KEY_FILE} (copy it to etc/security/ of every node, or set
      arca.license.publicKey in system.yaml, to turn the Cluster License Manager on).
  issue --key PRIVATE_PEM --to NAME --type TYPE --valid-through YYYY-MM-DD [--count N]
      Print N (default 1) license keys, one per line, signed with the private key.
      TYPE: ${LICENSE_TYPES.join(', ')}.
`;

export class LicenseCliError extends Error {}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const stdio: Output = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Writes a new key pair into `dir`; refuses to replace existing files unless `force`. */
export function keygen(dir: string, force: boolean): { privateFile: string; publicFile: string; publicBase64: string } {
  const privateFile = join(resolve(dir), PRIVATE_KEY_FILE);
  const publicFile = join(resolve(dir), PUBLIC_KEY_FILE);
  for (const f of [privateFile, publicFile]) if (existsSync(f) && !force) throw new LicenseCliError(`${f} exists; use --force to replace it`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  mkdirSync(resolve(dir), { recursive: true, mode: 0o700 });
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return { privateFile, publicFile, publicBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

export interface IssueRequest {
  keyFile: string;
  to: string;
  type: string;
  validThrough: string;
  count: number;
  now: number;
}

/** Signs `count` licenses (each with its own id) with the private key in `keyFile`. */
export function issue(req: IssueRequest): string[] {
  const type = canonicalType(req.type);
  if (!type) throw new LicenseCliError(`--type must be one of ${LICENSE_TYPES.join(', ')}, got '${req.type}'`);
  if (req.to.trim() === '') throw new LicenseCliError('--to must name the licensee');
  if (expiryOf(req.validThrough) === undefined) throw new LicenseCliError(`--valid-through must be a date YYYY-MM-DD, got '${req.validThrough}'`);
  if (!Number.isInteger(req.count) || req.count < 1 || req.count > 1000) throw new LicenseCliError(`--count must be from 1 to 1000, got '${req.count}'`);
  let pem: string;
  try {
    pem = readFileSync(req.keyFile, 'utf8');
  } catch (err) {
    throw new LicenseCliError(`Cannot read the private key ${req.keyFile}: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new LicenseCliError(`${req.keyFile} is not a private key (PEM): ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LicenseCliError(`${req.keyFile} holds a ${key.asymmetricKeyType} key; licenses are signed with Ed25519 (arca license keygen)`);
  const keys: string[] = [];
  for (let i = 0; i < req.count; i++) keys.push(signLicense(newDocument(req.to.trim(), type, req.validThrough, req.now), key));
  return keys;
}

/** `arca license …`; returns the exit code. */
export async function runLicense(args: string[], io: Output = stdio, now = Date.now()): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'keygen') {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, force: { type: 'boolean' } } });
      if (!values.out) throw new LicenseCliError('keygen needs --out DIR');
      const r = keygen(values.out, values.force === true);
      io.out(
        `Wrote ${r.privateFile} (private: keep it off the nodes) and ${r.publicFile}.\n` +
          `Turn the license manager on by copying ${PUBLIC_KEY_FILE} to etc/security/ of every node, or with system.yaml:\n` +
          `  arca:\n    license:\n      publicKey: ${r.publicBase64}\n`,
      );
      return 0;
    }
    if (sub === 'issue') {
      const { values } = parseArgs({
        args: rest,
        options: { key: { type: 'string' }, to: { type: 'string' }, type: { type: 'string' }, 'valid-through': { type: 'string' }, count: { type: 'string' } },
      });
      const missing = ['key', 'to', 'type', 'valid-through'].filter((k) => values[k as keyof typeof values] === undefined);
      if (missing.length > 0) throw new LicenseCliError(`issue needs ${missing.map((m) => `--${m}`).join(', ')}`);
      const count = values.count === undefined ? 1 : Number(values.count);
      const keys = issue({ keyFile: values.key!, to: values.to!, type: values.type!, validThrough: values['valid-through']!, count, now });
      io.out(keys.join('\n') + '\n');
      return 0;
    }
    io.err(LICENSE_USAGE);
    return 2;
  } catch (err) {
    if (err instanceof LicenseCliError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`arca license: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
