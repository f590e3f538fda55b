import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKey } from '../../src/db/items.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const S = 'http://localhost:80/artifactory/api/storage';
const READER = basic('reader', 'Reader-Passw0rd!');

/**
 * Non-admin callers through real permission targets: `reader` may read all of perm-a, and
 * read and annotate `pub/**` of perm-b; perm-c grants nothing.
 */
describe.each(DIALECTS)('storage API permissions on %s', (dialect) => {
  let node: TestNode;

  const asReader = (method: 'GET' | 'PUT' | 'DELETE', url: string) => node.request({ method, url, headers: { authorization: READER } });

  async function ok(res: { statusCode: number; body: string }, status = 200) {
    expect(res.statusCode, res.body).toBe(status);
  }

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['perm-a', 'perm-b', 'perm-c']) {
      await ok(await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } }));
      await ok(await node.request({ method: 'PUT', url: `/artifactory/${key}/pub/x.txt`, payload: `${key}-x` }), 201);
      await ok(await node.request({ method: 'PUT', url: `/artifactory/${key}/secret/y.txt`, payload: `${key}-y` }), 201);
    }
    // The secret file is the newest one of perm-b.
    await node.ctx.database.db.updateTable('items').set({ modified: Date.UTC(2030, 0, 1) }).where('path_key', '=', pathKey('perm-b', 'secret/y.txt')).execute();
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/reader', payload: { email: 'reader@example.com', password: 'Reader-Passw0rd!' } });
    expect([200, 201]).toContain(user.statusCode);
    const targets = [
      { name: 'reader-a', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['perm-a'], actions: { users: { reader: ['read'] } } } },
      { name: 'reader-b', repo: { 'include-patterns': ['pub/**'], 'exclude-patterns': [], repositories: ['perm-b'], actions: { users: { reader: ['read', 'annotate'] } } } },
    ];
    for (const t of targets) {
      const res = await node.request({ method: 'POST', url: `/artifactory/api/v2/security/permissions/${t.name}`, payload: t });
      expect([200, 201], res.body).toContain(res.statusCode);
    }
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers item info only where the caller may read', async () => {
    await ok(await asReader('GET', '/artifactory/api/storage/perm-a/secret/y.txt'));
    await ok(await asReader('GET', '/artifactory/api/storage/perm-b/pub/x.txt'));
    await ok(await asReader('GET', '/artifactory/api/storage/perm-b/secret/y.txt'), 403);
    // Existence is not revealed: a missing path the caller may not read is 403 too.
    await ok(await asReader('GET', '/artifactory/api/storage/perm-b/secret/none.txt'), 403);
    // A repository the caller may not read at all answers as one that does not exist (issue 12, item 7).
    for (const path of ['perm-c/pub/x.txt', 'perm-c', 'perm-c/none.txt']) {
      const hidden = await asReader('GET', `/artifactory/api/storage/${path}`);
      const missing = await asReader('GET', `/artifactory/api/storage/${path.replace('perm-c', 'perm-none')}`);
      await ok(hidden, 404);
      expect(hidden.body).toBe(missing.body.replace('perm-none', 'perm-c'));
    }
  });

  it('leaves unreadable children and list entries out', async () => {
    const root = await asReader('GET', '/artifactory/api/storage/perm-b');
    await ok(root);
    expect(root.json().children).toEqual([{ uri: '/pub', folder: true }]);
    const list = await asReader('GET', '/artifactory/api/storage/perm-b?list&deep=1&listFolders=1');
    await ok(list);
    expect(list.json().files.map((f: { uri: string }) => f.uri)).toEqual(['/pub', '/pub/x.txt']);
    const all = await asReader('GET', '/artifactory/api/storage/perm-a?list&deep=1');
    expect(all.json().files.map((f: { uri: string }) => f.uri)).toEqual(['/pub/x.txt', '/secret/y.txt']);
  });

  it('answers lastModified with the newest readable file', async () => {
    const res = await asReader('GET', '/artifactory/api/storage/perm-b?lastModified');
    await ok(res);
    expect(res.json().uri).toBe(`${S}/perm-b/pub/x.txt`);
    const admin = await node.request({ method: 'GET', url: '/artifactory/api/storage/perm-b?lastModified' });
    expect(admin.json().uri).toBe(`${S}/perm-b/secret/y.txt`);
  });

  it('needs annotate permission to change properties', async () => {
    await ok(await asReader('PUT', '/artifactory/api/storage/perm-a/pub/x.txt?properties=a=1'), 403);
    await ok(await asReader('DELETE', '/artifactory/api/storage/perm-a/pub/x.txt?properties=a'), 403);
    await ok(await asReader('PUT', '/artifactory/api/storage/perm-b/pub/x.txt?properties=a=1'), 204);
    await ok(await asReader('PUT', '/artifactory/api/storage/perm-b?properties=b=2'), 403);
    const props = await asReader('GET', '/artifactory/api/storage/perm-b/pub/x.txt?properties');
    expect(props.json().properties).toEqual({ a: ['1'] });
    await ok(await asReader('DELETE', '/artifactory/api/storage/perm-b/pub/x.txt?properties=a'), 204);
    await ok(await asReader('GET', '/artifactory/api/storage/perm-b/pub/x.txt?properties'), 404);
  });

  it('applies a recursive change only to what the caller may annotate', async () => {
    // The admin grants nothing extra; a recursive set from `pub` reaches pub's content only.
    await ok(await asReader('PUT', '/artifactory/api/storage/perm-b/pub?properties=tree=1'), 204);
    const secret = await node.request({ method: 'GET', url: '/artifactory/api/storage/perm-b/secret/y.txt?properties' });
    expect(secret.statusCode).toBe(404);
    // The admin sets from the root; the reader deletes from `pub`: secret keeps its property.
    await ok(await node.request({ method: 'PUT', url: '/artifactory/api/storage/perm-b?properties=all=1' }), 204);
    await ok(await asReader('DELETE', '/artifactory/api/storage/perm-b/pub?properties=all'), 204);
    const after = await node.request({ method: 'GET', url: '/artifactory/api/storage/perm-b/secret/y.txt?properties' });
    expect(after.json().properties).toEqual({ all: ['1'] });
    const pub = await node.request({ method: 'GET', url: '/artifactory/api/storage/perm-b/pub/x.txt?properties' });
    expect(pub.json().properties).toEqual({ tree: ['1'] });
  });

  it('reports the caller’s effective permissions', async () => {
    const res = await asReader('GET', '/artifactory/api/storage/perm-b/pub/x.txt?permissions');
    await ok(res);
    expect(res.json().principals).toEqual({ users: { reader: ['r', 'n'] }, groups: {} });
  });

  it('answers 404 instead of 403 when unauthorized resources are hidden', async () => {
    await node.ctx.settings.update({ hideUnauthorizedResources: true });
    try {
      await ok(await asReader('GET', '/artifactory/api/storage/perm-c/pub/x.txt'), 404);
      await ok(await asReader('PUT', '/artifactory/api/storage/perm-a/pub/x.txt?properties=a=1'), 404);
    } finally {
      await node.ctx.settings.update({ hideUnauthorizedResources: false });
    }
  });

  it('answers 401 to anonymous callers without permissions', async () => {
    await node.ctx.settings.update({ anonAccessEnabled: true });
    try {
      const res = await node.request({ method: 'GET', url: '/artifactory/api/storage/perm-a/pub/x.txt', headers: { authorization: '' } });
      expect(res.statusCode).toBe(401);
    } finally {
      await node.ctx.settings.update({ anonAccessEnabled: false });
    }
  });
});
