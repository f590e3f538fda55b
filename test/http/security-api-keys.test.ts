import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const KEY = '/artifactory/api/security/apiKey';
const ALICE = { authorization: basic('alice', 'Alice-Pw1') };

describe.each(DIALECTS)('API keys and encrypted passwords on %s', (dialect) => {
  let node: TestNode;
  const read = (headers: Record<string, string>) => node.request({ method: 'GET', url: '/artifactory/libs-local/a.txt', headers });

  beforeAll(async () => {
    node = await startTestNode(dialect);
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/libs-local', payload: { rclass: 'local' } });
    await node.request({ method: 'PUT', url: '/artifactory/libs-local/a.txt', payload: 'a' });
    for (const u of ['alice', 'bob']) {
      await node.request({ method: 'PUT', url: `/artifactory/api/security/users/${u}`, payload: { password: `${u === 'alice' ? 'Alice' : 'Bob'}-Pw1` } });
    }
    const target = { repo: { repositories: ['libs-local'], actions: { users: { alice: ['read'], bob: ['read'] } } } };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/v2/security/permissions/libs', payload: target })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('creates a key once (201, then 409), reads it back, and stores only its hash and ciphertext', async () => {
    expect((await node.request({ method: 'GET', url: KEY, headers: ALICE })).json()).toEqual({});
    const created = await node.request({ method: 'POST', url: KEY, headers: ALICE });
    expect(created.statusCode).toBe(201);
    const key = created.json().apiKey as string;
    expect(key).toMatch(/^AKC[A-Za-z0-9]{70}$/);
    expect((await node.request({ method: 'POST', url: KEY, headers: ALICE })).statusCode).toBe(409);
    expect((await node.request({ method: 'GET', url: KEY, headers: ALICE })).json()).toEqual({ apiKey: key });
    const row = await node.ctx.database.db.selectFrom('users').select(['api_key_enc', 'api_key_hash']).where('name', '=', 'alice').executeTakeFirstOrThrow();
    expect(row.api_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.api_key_enc).not.toContain(key);
    expect(row.api_key_enc).toMatch(/^ENC\(/);
  });

  it('authenticates with X-JFrog-Art-Api and as the Basic password of its owner only', async () => {
    const key = (await node.request({ method: 'GET', url: KEY, headers: ALICE })).json().apiKey as string;
    expect((await read({ authorization: '', 'x-jfrog-art-api': key })).statusCode).toBe(200);
    expect((await read({ authorization: '', 'x-api-key': key })).statusCode).toBe(200);
    expect((await read({ authorization: basic('alice', key) })).statusCode).toBe(200);
    expect((await read({ authorization: basic('bob', key) })).statusCode).toBe(401);
    // Change the last character to a different one (a random key may already end in "x").
    const tampered = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
    expect(tampered).not.toBe(key);
    expect((await read({ authorization: '', 'x-jfrog-art-api': tampered })).statusCode).toBe(401);
    const who = await node.request({ method: 'GET', url: '/artifactory/api/security/users/alice', headers: { authorization: '', 'x-jfrog-art-api': key } });
    expect(who.statusCode).toBe(200);
  });

  it('regenerates with PUT (200): the old key stops working at once', async () => {
    const old = (await node.request({ method: 'GET', url: KEY, headers: ALICE })).json().apiKey as string;
    expect((await read({ authorization: '', 'x-jfrog-art-api': old })).statusCode).toBe(200);
    const put = await node.request({ method: 'PUT', url: KEY, headers: ALICE });
    expect(put.statusCode).toBe(200);
    const fresh = put.json().apiKey as string;
    expect(fresh).not.toBe(old);
    expect((await read({ authorization: '', 'x-jfrog-art-api': old })).statusCode).toBe(401);
    expect((await read({ authorization: '', 'x-jfrog-art-api': fresh })).statusCode).toBe(200);
  });

  it('revokes the own key with DELETE, and an admin revokes anyone\'s', async () => {
    const key = (await node.request({ method: 'GET', url: KEY, headers: ALICE })).json().apiKey as string;
    expect((await node.request({ method: 'DELETE', url: KEY, headers: ALICE })).statusCode).toBe(200);
    expect((await read({ authorization: '', 'x-jfrog-art-api': key })).statusCode).toBe(401);
    expect((await node.request({ method: 'GET', url: KEY, headers: ALICE })).json()).toEqual({});

    const bob = { authorization: basic('bob', 'Bob-Pw1') };
    const bobKey = (await node.request({ method: 'POST', url: KEY, headers: bob })).json().apiKey as string;
    expect((await node.request({ method: 'DELETE', url: `${KEY}/bob`, headers: ALICE })).statusCode).toBe(403);
    expect((await node.request({ method: 'DELETE', url: `${KEY}/bob` })).statusCode).toBe(200);
    expect((await read({ authorization: '', 'x-jfrog-art-api': bobKey })).statusCode).toBe(401);
    expect((await node.request({ method: 'DELETE', url: `${KEY}/nobody` })).statusCode).toBe(404);
  });

  it('refuses anonymous callers', async () => {
    expect((await node.request({ method: 'GET', url: KEY, headers: { authorization: '' } })).statusCode).toBe(401);
    expect((await node.request({ method: 'POST', url: KEY, headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('makes an encrypted password that works in place of the password, for its user only', async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/security/encryptedPassword', headers: ALICE });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const enc = res.body;
    expect(enc).toMatch(/^AEP1[A-Za-z0-9_-]+$/);
    expect(enc).not.toContain('Alice-Pw1');
    expect((await read({ authorization: basic('alice', enc) })).statusCode).toBe(200);
    expect((await read({ authorization: basic('bob', enc) })).statusCode).toBe(401);
    // Asking again with the encrypted password gives another value that works too.
    const again = await node.request({ method: 'GET', url: '/artifactory/api/security/encryptedPassword', headers: { authorization: basic('alice', enc) } });
    expect(again.statusCode).toBe(200);
    expect((await read({ authorization: basic('alice', again.body) })).statusCode).toBe(200);
  });

  it('stops accepting an encrypted password once the password changes', async () => {
    const enc = (await node.request({ method: 'GET', url: '/artifactory/api/security/encryptedPassword', headers: ALICE })).body;
    await node.request({ method: 'POST', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw2' } });
    expect((await read({ authorization: basic('alice', enc) })).statusCode).toBe(401);
    await node.request({ method: 'POST', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw1' } });
  });

  it('refuses to make an encrypted password for a token or API-key login', async () => {
    const key = (await node.request({ method: 'POST', url: KEY, headers: ALICE })).json().apiKey as string;
    const viaKey = await node.request({ method: 'GET', url: '/artifactory/api/security/encryptedPassword', headers: { authorization: '', 'x-jfrog-art-api': key } });
    expect(viaKey.statusCode).toBe(403);
    const viaBasicKey = await node.request({ method: 'GET', url: '/artifactory/api/security/encryptedPassword', headers: { authorization: basic('alice', key) } });
    expect(viaBasicKey.statusCode).toBe(403);
  });
});
