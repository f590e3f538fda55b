import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const GPG = '/artifactory/api/gpg/key';
const KEYPAIR = '/artifactory/api/security/keypair';
const ALICE = basic('alice', 'Alice-Pw1');
const TEXT = { 'content-type': 'text/plain' };

async function fingerprintOf(armored: string): Promise<string> {
  return (await openpgp.readKey({ armoredKey: armored })).getFingerprint().toUpperCase();
}

/** The signing key API (docs/signing.md): admin-only changes, public keys for readers, private keys never out. */
describe.each(DIALECTS)('signing keys API on %s', (dialect) => {
  let node: TestNode;
  /** Every response body seen, checked at the end for private key material. */
  const bodies: string[] = [];
  const call = async (opts: Parameters<TestNode['request']>[0]) => {
    const res = await node.request(opts);
    bodies.push(res.body);
    return res;
  };
  const setAnonymous = async (on: boolean) => {
    const res = await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: `security:\n  anonAccessEnabled: ${on}\n` });
    expect(res.statusCode, res.body).toBe(200);
  };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['deb-local', 'priv-local']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(res.statusCode, res.body).toBe(200);
    }
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw1', email: 'alice@example.org' } });
    const target = { repo: { repositories: ['deb-local'], actions: { users: { alice: ['read'], anonymous: ['read'] } } } };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/v2/security/permissions/deb', payload: { name: 'deb', ...target } })).statusCode).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await node?.close();
  });

  it('serves the default public key to anyone, generating it once (also with anonymous access off)', async () => {
    const first = await call({ method: 'GET', url: `${GPG}/public`, headers: { authorization: '' } });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/plain/);
    expect(first.body).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const again = await call({ method: 'GET', url: `${GPG}/public` });
    expect(await fingerprintOf(again.body)).toBe(await fingerprintOf(first.body));
    const list = (await call({ method: 'GET', url: KEYPAIR })).json() as { pairName: string; default: boolean; fingerprint: string }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ pairName: 'arca-default', default: true, fingerprint: await fingerprintOf(first.body) });
  });

  it('lets only administrators change keys: 401 anonymous, 403 others, before the body is read', async () => {
    const big = 'x'.repeat(1024 * 1024);
    for (const url of [`${GPG}/public`, `${GPG}/private`, `${GPG}/passphrase`]) {
      expect((await call({ method: 'PUT', url, headers: { authorization: '', ...TEXT }, payload: big })).statusCode).toBe(401);
      expect((await call({ method: 'PUT', url, headers: { authorization: ALICE, ...TEXT, 'x-gpg-passphrase': 'p' }, payload: big })).statusCode).toBe(403);
    }
    expect((await call({ method: 'POST', url: KEYPAIR, headers: { authorization: ALICE }, payload: { pairName: 'x' } })).statusCode).toBe(403);
    expect((await call({ method: 'DELETE', url: `${KEYPAIR}/arca-default`, headers: { authorization: ALICE } })).statusCode).toBe(403);
    expect((await call({ method: 'GET', url: KEYPAIR, headers: { authorization: ALICE } })).statusCode).toBe(403);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/arca-default`, headers: { authorization: ALICE } })).statusCode).toBe(403);
    // An administrator's body is bounded (keys are small).
    expect((await call({ method: 'PUT', url: `${GPG}/public`, headers: TEXT, payload: big })).statusCode).toBe(413);
  });

  it('refuses keys that do not parse, do not match or do not unlock, with the JFrog error body', async () => {
    const junk = await call({ method: 'PUT', url: `${GPG}/public`, headers: TEXT, payload: 'not a key' });
    expect(junk.statusCode).toBe(400);
    expect(junk.json()).toEqual({ errors: [{ status: 400, message: expect.stringMatching(/public key cannot be read/) }] });
    expect((await call({ method: 'PUT', url: `${GPG}/private`, headers: TEXT, payload: '' })).statusCode).toBe(400);
    // No content type at all (what `curl -T` sends): the body is still read as the key.
    const untyped = await call({ method: 'PUT', url: `${GPG}/public`, payload: Buffer.from('junk') });
    expect(untyped.statusCode).toBe(400);
    expect(untyped.json().errors[0].message).toMatch(/public key cannot be read/);
    expect((await call({ method: 'PUT', url: `${GPG}/passphrase` })).statusCode).toBe(400);
    const a = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'A' }], format: 'armored' });
    const b = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'B' }], format: 'armored' });
    const mismatch = await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'mixed', pairType: 'GPG', alias: 'm', privateKey: a.privateKey, publicKey: b.publicKey } });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().errors[0].message).toMatch(/does not match/);
    const locked = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'L' }], passphrase: 'right', format: 'armored' });
    const wrong = await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'locked', privateKey: locked.privateKey, publicKey: locked.publicKey, passphrase: 'wrong' } });
    expect(wrong.statusCode).toBe(400);
    expect((await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'bad/name' } })).statusCode).toBe(400);
    expect((await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'rsa', pairType: 'RSA' } })).statusCode).toBe(400);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/locked` })).statusCode).toBe(404);
  });

  it('replaces the default key by public, private and passphrase uploads; the old one stays as a named pair', async () => {
    const before = await fingerprintOf((await call({ method: 'GET', url: `${GPG}/public` })).body);
    const made = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'Ops', email: 'ops@example.org' }], passphrase: 'Pass-1', format: 'armored' });
    const fp = await fingerprintOf(made.publicKey);
    expect((await call({ method: 'PUT', url: `${GPG}/public`, headers: TEXT, payload: made.publicKey })).statusCode).toBe(200);
    // curl -T sends no content type; --data-binary sends a form type: both are read as text.
    const priv = await call({ method: 'PUT', url: `${GPG}/private`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: made.privateKey });
    expect(priv.statusCode, priv.body).toBe(200);
    expect(await fingerprintOf((await call({ method: 'GET', url: `${GPG}/public` })).body)).toBe(before);
    expect((await call({ method: 'PUT', url: `${GPG}/passphrase`, headers: { 'x-gpg-passphrase': 'nope' } })).statusCode).toBe(400);
    const pass = await call({ method: 'PUT', url: `${GPG}/passphrase`, headers: { 'x-gpg-passphrase': 'Pass-1' } });
    expect(pass.statusCode, pass.body).toBe(200);
    expect(await fingerprintOf((await call({ method: 'GET', url: `${GPG}/public`, headers: { authorization: '' } })).body)).toBe(fp);
    const list = (await call({ method: 'GET', url: KEYPAIR })).json() as { pairName: string; default: boolean; fingerprint: string }[];
    expect(list.find((p) => p.default)?.fingerprint).toBe(fp);
    expect(list.find((p) => p.fingerprint === before)?.pairName).toBe('arca-default');
  });

  it('creates, shows, pins to a repository and deletes key pairs', async () => {
    const created = await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'deb-key', pairType: 'GPG', alias: 'Debian signing' } });
    expect(created.statusCode, created.body).toBe(201);
    const pair = created.json();
    expect(pair).toMatchObject({ pairName: 'deb-key', pairType: 'GPG', alias: 'Debian signing', default: false });
    expect(pair.publicKey).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect((await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'deb-key' } })).statusCode).toBe(409);
    const imported = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'Imp' }], passphrase: 'x', format: 'armored' });
    const imp = await call({ method: 'POST', url: KEYPAIR, payload: { pairName: 'imported', pairType: 'GPG', alias: 'i', privateKey: imported.privateKey, publicKey: imported.publicKey, passphrase: 'x' } });
    expect(imp.statusCode, imp.body).toBe(201);
    expect(imp.json().fingerprint).toBe(await fingerprintOf(imported.publicKey));
    const shown = await call({ method: 'GET', url: `${KEYPAIR}/deb-key` });
    expect(shown.json()).toEqual(pair);

    // The repository names its key pair; readers fetch the key that signs it.
    const cfg = await call({ method: 'POST', url: '/artifactory/api/repositories/deb-local', payload: { primaryKeyPairRef: 'deb-key', secondaryKeyPairRef: 'imported' } });
    expect(cfg.statusCode, cfg.body).toBe(200);
    expect((await call({ method: 'POST', url: '/artifactory/api/repositories/deb-local', payload: { primaryKeyPairRef: 42 } })).statusCode).toBe(400);
    const unknown = await call({ method: 'POST', url: '/artifactory/api/repositories/deb-local', payload: { primaryKeyPairRef: 'no-such-pair' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].message).toMatch(/'primaryKeyPairRef' names key pair 'no-such-pair', which does not exist/);
    const unknownNew = await call({ method: 'PUT', url: '/artifactory/api/repositories/rpm-new', payload: { rclass: 'local', packageType: 'rpm', secondaryKeyPairRef: 'nope' } });
    expect(unknownNew.statusCode).toBe(400);
    const repoKeys = ((await call({ method: 'GET', url: '/artifactory/api/repositories' })).json() as { key: string }[]).map((r) => r.key);
    expect(repoKeys).not.toContain('rpm-new');
    const forRepo = await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/deb-local`, headers: { authorization: ALICE } });
    expect(forRepo.statusCode).toBe(200);
    expect(await fingerprintOf(forRepo.body)).toBe(pair.fingerprint);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/priv-local`, headers: { authorization: ALICE } })).statusCode).toBe(404);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/none`, headers: { authorization: ALICE } })).statusCode).toBe(404);
    // Anonymous: only with anonymous access on, and only for a repository anonymous may read.
    expect((await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/deb-local`, headers: { authorization: '' } })).statusCode).toBe(401);
    await setAnonymous(true);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/deb-local`, headers: { authorization: '' } })).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/priv-local`, headers: { authorization: '' } })).statusCode).toBe(401);
    await setAnonymous(false);
    // A repository without a pair of its own is signed by the default key.
    const defaultKey = await call({ method: 'GET', url: `${GPG}/public` });
    expect(await fingerprintOf((await call({ method: 'GET', url: `${KEYPAIR}/public/repositories/priv-local` })).body)).toBe(await fingerprintOf(defaultKey.body));

    // A pair a repository names is kept; unpinned, it goes.
    expect((await call({ method: 'DELETE', url: `${KEYPAIR}/deb-key` })).statusCode).toBe(409);
    expect((await call({ method: 'POST', url: '/artifactory/api/repositories/deb-local', payload: { primaryKeyPairRef: '', secondaryKeyPairRef: '' } })).statusCode).toBe(200);
    expect((await call({ method: 'DELETE', url: `${KEYPAIR}/deb-key` })).statusCode).toBe(204);
    expect((await call({ method: 'GET', url: `${KEYPAIR}/deb-key` })).statusCode).toBe(404);
    expect((await call({ method: 'DELETE', url: `${KEYPAIR}/deb-key` })).statusCode).toBe(404);
  });

  it('never returned a private key or a passphrase in any response', () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) {
      expect(body).not.toContain('PRIVATE KEY BLOCK');
      expect(body).not.toContain('Pass-1');
      expect(body).not.toMatch(/ENC\(v1:/);
    }
  });
});
