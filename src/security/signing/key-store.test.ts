import * as openpgp from 'openpgp';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigVersions } from '../../cluster/config-versions.js';
import { systemClock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import type { RepoConfig } from '../../core/repo-config.js';
import { openDatabase, type Database } from '../../db/database.js';
import { openTestDatabase, type TestDatabase } from '../../db/testing/databases.js';
import { UPLOAD_ROW } from './default-key-upload.js';
import { GENERATED_NAME, SigningKeyStore } from './key-store.js';
import { verifyDetachedSignature } from './openpgp-keys.js';

const MASTER = Buffer.alloc(32, 7);

/** One "node": its own database connection, version watcher and key store. */
interface Node {
  database: Database;
  versions: ConfigVersions;
  store: SigningKeyStore;
}

describe.each(['sqlite', 'postgresql'] as const)('signing key store on %s', (dialect) => {
  let t: TestDatabase;
  const nodes: Node[] = [];
  const repos = new Map<string, RepoConfig>();
  const repoLookup = { get: async (key: string) => repos.get(key) };

  async function node(): Promise<Node> {
    const database = await openDatabase(t.config);
    const versions = new ConfigVersions(database, { intervalMs: 100 });
    await versions.start();
    const n = { database, versions, store: new SigningKeyStore(database, versions, systemClock, MASTER, repoLookup) };
    nodes.push(n);
    return n;
  }

  afterEach(async () => {
    for (const n of nodes.splice(0)) {
      await n.versions.stop();
      await n.database.close();
    }
    repos.clear();
    await t?.drop();
  });

  async function fresh(): Promise<void> {
    t = await openTestDatabase(dialect);
  }

  it('generates the default key once for the cluster when nodes race for it, and stores its private key encrypted', async () => {
    await fresh();
    const [a, b] = [await node(), await node()];
    const signers = await Promise.all([a.store.defaultKey(), b.store.defaultKey(), a.store.defaultKey(), b.store.defaultKey()]);
    const fingerprints = new Set(signers.map((s) => s.fingerprint));
    expect(fingerprints.size).toBe(1);
    const rows = await t.database.db.selectFrom('signing_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: GENERATED_NAME, default_slot: 1, fingerprint: signers[0].fingerprint, pair_type: 'GPG' });
    expect(rows[0].private_key).toMatch(/^ENC\(v1:/);
    expect(rows[0].private_key).not.toContain('PRIVATE KEY');
    // A third node started later reads the same key, and signs with it.
    const c = await node();
    const s = await c.store.forRepository('no-such-repo').catch((e: unknown) => e);
    expect(s).toBeInstanceOf(ArcaError); // an unknown repository
    repos.set('deb-local', { key: 'deb-local', rclass: 'local', packageType: 'debian' } as unknown as RepoConfig);
    const signer = await c.store.forRepository('deb-local');
    expect(signer.fingerprint).toBe(signers[0].fingerprint);
    expect(await c.store.verifyDetached('x', await signer.detachSign('x'), signers[1].publicKeyArmored)).toBe(true);
    // A node with another master key cannot use the key, and says why.
    const wrongKey = new SigningKeyStore(c.database, c.versions, systemClock, Buffer.alloc(32, 9), repoLookup);
    await expect(wrongKey.defaultKey()).rejects.toMatchObject({ code: 'MISCONFIGURED', message: expect.stringMatching(/cannot be decrypted with this node's master key/) });
  }, 60_000);

  it('signs a repository with the pair its primaryKeyPairRef names, and says clearly when that pair does not exist', async () => {
    await fresh();
    const a = await node();
    const pair = await a.store.create({ pairName: 'deb-key', alias: 'Debian key' });
    expect(pair).toMatchObject({ pairName: 'deb-key', pairType: 'GPG', alias: 'Debian key', default: false });
    expect(JSON.stringify(pair)).not.toContain('PRIVATE');
    repos.set('deb-local', { key: 'deb-local', rclass: 'local', packageType: 'debian', primaryKeyPairRef: 'deb-key' } as unknown as RepoConfig);
    repos.set('rpm-local', { key: 'rpm-local', rclass: 'local', packageType: 'rpm', primaryKeyPairRef: 'nope' } as unknown as RepoConfig);
    const signer = await a.store.forRepository('deb-local');
    expect(signer.fingerprint).toBe(pair.fingerprint);
    expect(await verifyDetachedSignature('data', await signer.detachSign('data'), pair.publicKey)).toBe(true);
    await expect(a.store.forRepository('rpm-local')).rejects.toThrow(/'nope' \(primaryKeyPairRef\), which does not exist/);
    // A secondary pair signs too: each signature verifies with either public key alone.
    const next = await a.store.create({ pairName: 'deb-key-2027' });
    repos.set('deb-rotating', { key: 'deb-rotating', rclass: 'local', packageType: 'debian', primaryKeyPairRef: 'deb-key', secondaryKeyPairRef: 'deb-key-2027' } as unknown as RepoConfig);
    const both = await a.store.forRepository('deb-rotating');
    expect(both.fingerprint).toBe(pair.fingerprint);
    expect(both.publicKeyArmored).toBe(pair.publicKey);
    const sig = await both.detachSign('data');
    expect(await a.store.verifyDetached('data', sig, pair.publicKey)).toBe(true);
    expect(await a.store.verifyDetached('data', sig, next.publicKey)).toBe(true);
    const clear = await both.clearsign('Origin: x\n');
    expect(await a.store.verifyClearsigned(clear, next.publicKey)).toBe('Origin: x\n');
    repos.set('deb-rotating', { key: 'deb-rotating', rclass: 'local', packageType: 'debian', secondaryKeyPairRef: 'gone' } as unknown as RepoConfig);
    await expect(a.store.forRepository('deb-rotating')).rejects.toThrow(/'gone' \(secondaryKeyPairRef\)/);
    repos.delete('deb-rotating');
    // A pair a repository names cannot be deleted.
    await expect(a.store.delete('deb-key', [...repos.values()])).rejects.toThrow(/named by repositories deb-local/);
    // The name of the generated default is taken by this pair: the default gets its key id appended.
    await a.store.create({ pairName: GENERATED_NAME });
    const def = await a.store.defaultKey();
    expect(def.fingerprint).not.toBe(pair.fingerprint);
    expect((await a.store.list()).find((p) => p.default)?.pairName).toBe(`${GENERATED_NAME}-${def.keyId.toLowerCase()}`);
  }, 60_000);

  it('takes an uploaded default key (public, private, passphrase) only once it is complete, and every node sees it within seconds', async () => {
    await fresh();
    const [a, b] = [await node(), await node()];
    const old = await a.store.defaultKey();
    expect((await b.store.defaultKey()).fingerprint).toBe(old.fingerprint);

    const made = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'Ops', email: 'ops@example.org' }], passphrase: 'pw-1', format: 'armored' });
    const fp = (await openpgp.readKey({ armoredKey: made.publicKey })).getFingerprint().toUpperCase();
    expect(await a.store.uploadPublic(made.publicKey)).toMatch(/upload its private key/);
    await expect(a.store.uploadPublic(made.privateKey)).rejects.toThrow(/private key, not a public key/);
    await expect(a.store.uploadPublic('junk')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // A private key of another key does not match what was uploaded.
    const other = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'Other' }], format: 'armored' });
    await expect(a.store.uploadPrivate(other.privateKey)).rejects.toThrow(/does not match/);
    // A key that expired cannot sign: refused at upload.
    const expired = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'Old' }], date: new Date(Date.now() - 60_000), keyExpirationTime: 1, format: 'armored' });
    await expect(b.store.uploadPrivate(expired.privateKey)).rejects.toThrow(/no valid signing/);
    expect(await a.store.uploadPrivate(made.privateKey)).toMatch(/set its passphrase/);
    expect((await a.store.defaultKey()).fingerprint).toBe(old.fingerprint);
    await expect(a.store.uploadPassphrase('wrong')).rejects.toThrow(/does not unlock/);
    expect(await a.store.uploadPassphrase('pw-1')).toBe(`The default signing key is now ${fp}`);
    expect((await a.store.defaultKey()).fingerprint).toBe(fp);
    expect(await t.database.db.selectFrom('signing_keys').select('name').where('name', '=', UPLOAD_ROW).executeTakeFirst()).toBeUndefined();
    const row = await t.database.db.selectFrom('signing_keys').selectAll().where('default_slot', '=', 1).executeTakeFirstOrThrow();
    expect(row.passphrase).toMatch(/^ENC\(v1:/);
    expect(row.passphrase).not.toContain('pw-1');
    // The other node drops its cached key on the version change (polled every 100 ms here).
    const deadline = Date.now() + 5000;
    while ((await b.store.defaultKey()).fingerprint !== fp && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await b.store.defaultKey()).fingerprint).toBe(fp);
    // The old default stays a named pair; only one row is the default.
    const list = await b.store.list();
    expect(list.filter((p) => p.default).map((p) => p.fingerprint)).toEqual([fp]);
    expect(list.map((p) => p.fingerprint)).toContain(old.fingerprint);
    // The passphrase of the current default can be set again, but only to one that unlocks it.
    await expect(b.store.uploadPassphrase('nope')).rejects.toThrow(/does not unlock/);
    expect(await b.store.uploadPassphrase('pw-1')).toMatch(/passphrase of the default signing key/);
  }, 60_000);
});
