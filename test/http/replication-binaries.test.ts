import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const READER = basic('outsider', 'Outsider-Passw0rd!1');

/**
 * `POST /api/replication/binaries` (an Arca extension the replication sender asks before it
 * sends a page of files): which binaries a checksum deploy by the caller would find. It tells
 * no more than checksum deploys do: only binaries readable by the caller through some item;
 * anonymous callers are refused before the body; bad bodies are 400s; the list is bounded.
 */
describe('replication binaries question', () => {
  let node: TestNode;
  const ask = (payload: unknown, headers: Record<string, string> = {}) => node.request({ method: 'POST', url: '/artifactory/api/replication/binaries', payload: payload as object, headers });

  beforeAll(async () => {
    node = await startTestNode('sqlite');
    for (const key of ['open-local', 'secret-local']) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    }
    expect((await node.request({ method: 'PUT', url: '/artifactory/open-local/a.txt', payload: 'open content' })).statusCode).toBe(201);
    expect((await node.request({ method: 'PUT', url: '/artifactory/secret-local/b.txt', payload: 'secret content' })).statusCode).toBe(201);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/outsider', payload: { email: 'o@example.com', password: 'Outsider-Passw0rd!1' } })).statusCode).toBeLessThan(300);
    const perm = await node.request({ method: 'PUT', url: '/artifactory/api/security/permissions/outsider', payload: { name: 'outsider', repositories: ['open-local'], principals: { users: { outsider: ['r', 'w'] } } } });
    expect(perm.statusCode, perm.body).toBeLessThan(300);
  }, 60_000);
  afterAll(async () => {
    await node?.close();
  });

  it('answers the binaries the caller could deploy by checksum, and no others', async () => {
    const asked = [sha1('open content'), sha1('secret content'), sha1('never stored')];
    const admin = await ask({ sha1: asked });
    expect(admin.statusCode, admin.body).toBe(200);
    expect(new Set(admin.json().known)).toEqual(new Set([sha1('open content'), sha1('secret content')]));
    // A user who cannot read secret-local learns nothing of its binary.
    const user = await ask({ sha1: asked }, { authorization: READER });
    expect(user.statusCode, user.body).toBe(200);
    expect(user.json().known).toEqual([sha1('open content')]);
  });

  it('refuses anonymous callers before the body, bad bodies with a 400 naming the field, and more than 1000 checksums', async () => {
    const anonymous = await node.request({ method: 'POST', url: '/artifactory/api/replication/binaries', payload: { sha1: [] }, headers: { authorization: '' } });
    expect(anonymous.statusCode).toBe(401);
    expect((await ask({ sha1: 'x' })).statusCode).toBe(400);
    const bad = await ask({ sha1: [sha1('a'), 'ABC'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('sha1[1]');
    const many = await ask({ sha1: Array.from({ length: 1001 }, (_, i) => sha1(String(i))) });
    expect(many.statusCode).toBe(400);
    expect((await ask({ sha1: [] })).json()).toEqual({ known: [] });
  });
});
