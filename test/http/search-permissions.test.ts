import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumsOf } from '../../src/core/digests.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_AUTH, basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const S = 'http://localhost:80/artifactory/api/storage';
const SEEKER = basic('seeker', 'Seeker-Passw0rd!');

/** `seeker` may read all of find-a and `pub/**` of find-b; find-c grants nothing. */
describe.each(DIALECTS)('search permissions on %s', (dialect) => {
  let node: TestNode;

  async function uris(query: string, authorization = SEEKER): Promise<string[]> {
    const res = await node.request({ method: 'GET', url: `/artifactory/api/search/${query}`, headers: { authorization } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.map((r: { uri: string }) => r.uri);
  }

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['find-a', 'find-b', 'find-c']) {
      const repo = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(repo.statusCode).toBe(200);
      for (const path of ['pub/shared.bin;kind=shared', 'secret/shared.bin;kind=shared']) {
        const res = await node.request({ method: 'PUT', url: `/artifactory/${key}/${path}`, payload: 'same content' });
        expect(res.statusCode).toBe(201);
      }
    }
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/seeker', payload: { email: 'seeker@example.com', password: 'Seeker-Passw0rd!' } });
    expect([200, 201]).toContain(user.statusCode);
    const targets = [
      { name: 'seek-a', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['find-a'], actions: { users: { seeker: ['read'] } } } },
      { name: 'seek-b', repo: { 'include-patterns': ['pub/**'], 'exclude-patterns': [], repositories: ['find-b'], actions: { users: { seeker: ['read'] } } } },
    ];
    for (const t of targets) {
      const res = await node.request({ method: 'POST', url: `/artifactory/api/v2/security/permissions/${t.name}`, payload: t });
      expect([200, 201], res.body).toContain(res.statusCode);
    }
  });
  afterAll(async () => {
    await node?.close();
  });

  const readable = [`${S}/find-a/pub/shared.bin`, `${S}/find-a/secret/shared.bin`, `${S}/find-b/pub/shared.bin`];

  it('filters artifact search results by read permission', async () => {
    expect(await uris('artifact?name=shared')).toEqual(readable);
    expect(await uris('artifact?name=shared', ADMIN_AUTH)).toHaveLength(6);
    expect(await uris('artifact?name=shared&repos=find-c')).toEqual([]);
  });

  it('filters checksum search results by read permission', async () => {
    const { sha256 } = checksumsOf(Buffer.from('same content'));
    expect(await uris(`checksum?sha256=${sha256}`)).toEqual(readable);
    expect(await uris(`checksum?sha256=${sha256}&repos=find-b,find-c`)).toEqual([`${S}/find-b/pub/shared.bin`]);
  });

  it('filters property search results by read permission', async () => {
    expect(await uris('prop?kind=shared')).toEqual(readable);
    expect(await uris('prop?kind=sha*&repos=find-c')).toEqual([]);
  });

  it('does not leak properties or info of unreadable items through result details', async () => {
    const res = await node.request({
      method: 'GET',
      url: '/artifactory/api/search/prop?kind=shared&repos=find-b',
      headers: { authorization: SEEKER, 'x-result-detail': 'info, properties' },
    });
    expect(res.json().results).toEqual([expect.objectContaining({ uri: `${S}/find-b/pub/shared.bin`, path: '/pub/shared.bin', properties: { kind: ['shared'] } })]);
  });
});
