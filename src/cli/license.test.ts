import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPublicKey, verifyLicense } from '../cluster/licenses/license-key.js';
import { main } from './main.js';
import { runLicense } from './license.js';

function capture() {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('arca license keygen and issue', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'arca-license-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a key pair (private 0600) and issues keys the public key verifies, each with its own id', async () => {
    const gen = capture();
    expect(await runLicense(['keygen', '--out', join(dir, 'keys')], gen)).toBe(0);
    const priv = join(dir, 'keys', 'license-private.pem');
    const pub = join(dir, 'keys', 'license-public.pem');
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(readFileSync(priv, 'utf8')).toContain('BEGIN PRIVATE KEY');
    const oneLine = /publicKey: (\S+)/.exec(gen.stdout)![1];
    expect(readPublicKey(oneLine).export({ type: 'spki', format: 'pem' })).toBe(readFileSync(pub, 'utf8'));

    const io = capture();
    const code = await runLicense(['issue', '--key', priv, '--to', 'ACME Corp', '--type', 'enterprise', '--valid-through', '2027-05-15', '--count', '3'], io, Date.UTC(2026, 0, 1));
    expect(code).toBe(0);
    const keys = io.stdout.trim().split('\n');
    expect(keys).toHaveLength(3);
    const docs = keys.map((k) => verifyLicense(k, readPublicKey(readFileSync(pub, 'utf8'))).doc);
    expect(docs.map((d) => [d.licensedTo, d.type, d.validThrough, d.issuedAt])).toEqual(Array(3).fill(['ACME Corp', 'Enterprise', '2027-05-15', '2026-01-01T00:00:00.000Z']));
    expect(new Set(docs.map((d) => d.id)).size).toBe(3);
  });

  it('refuses to overwrite a key pair without --force', async () => {
    expect(await runLicense(['keygen', '--out', dir], capture())).toBe(0);
    const first = readFileSync(join(dir, 'license-public.pem'), 'utf8');
    const io = capture();
    expect(await runLicense(['keygen', '--out', dir], io)).toBe(2);
    expect(io.stderr).toContain('exists; use --force');
    expect(readFileSync(join(dir, 'license-public.pem'), 'utf8')).toBe(first);
    expect(await runLicense(['keygen', '--out', dir, '--force'], capture())).toBe(0);
    expect(readFileSync(join(dir, 'license-public.pem'), 'utf8')).not.toBe(first);
  });

  it('explains bad arguments with exit code 2', async () => {
    await runLicense(['keygen', '--out', dir], capture());
    const priv = join(dir, 'license-private.pem');
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const base = ['issue', '--key', priv, '--to', 'A', '--type', 'Trial', '--valid-through', '2027-01-01'];
    const cases: [string[], RegExp][] = [
      [['issue', '--to', 'A'], /needs --key, --type, --valid-through/],
      [[...base.slice(0, 6), 'Pro', ...base.slice(7)], /--type must be one of Enterprise, Enterprise Plus, Trial/],
      [[...base.slice(0, 8), '2027-13-01'], /--valid-through must be a date/],
      [[...base, '--count', '0'], /--count must be from 1 to 1000/],
      [['issue', '--key', join(dir, 'missing.pem'), ...base.slice(3)], /Cannot read the private key/],
      [['issue', '--key', rsa, ...base.slice(3)], /holds a rsa key/],
      [['keygen'], /needs --out/],
      [['keygen', '--bogus'], /Unknown option/],
      [['frobnicate'], /Usage: arca license/],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      expect(await runLicense(args, io), args.join(' ')).toBe(2);
      expect(io.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('is dispatched by the arca command', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
    try {
      expect(await main(['license', '--help'])).toBe(0);
      expect(await main(['help'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(chunks.join('')).toContain('issue --key PRIVATE_PEM --to NAME --type TYPE --valid-through YYYY-MM-DD [--count N]');
    expect(chunks.join('')).toContain('license keygen');
  });
});
