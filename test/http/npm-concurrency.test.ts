import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_AUTH, startTestNode, type TestNode } from '../helpers/node-context.js';

const REPO = 'npm-race';
const API = `/artifactory/api/npm/${REPO}`;

/**
 * Concurrent changes to one package document: none is lost, and two publishes of one version
 * end with exactly one winner whose tarball matches the document.
 */
describe.each(DIALECTS)('npm document changes under concurrency on %s', (dialect) => {
  let node: TestNode;
  const put = (url: string, body: unknown) =>
    node.request({ method: 'PUT', url: `${API}${url}`, headers: { 'content-type': 'application/json', authorization: ADMIN_AUTH }, payload: JSON.stringify(body) });

  beforeAll(async () => {
    node = await startTestNode(dialect);
    expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${REPO}`, payload: { rclass: 'local', packageType: 'npm' } })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('keeps every version of concurrent first publishes and every concurrent dist-tag', async () => {
    const versions = Array.from({ length: 8 }, (_, i) => `1.${i}.0`);
    const results = await Promise.all(versions.map((v) => put('/racer', publishBody(packPackage({ name: 'racer', version: v })))));
    expect(results.map((r) => r.statusCode)).toEqual(versions.map(() => 201));
    const tags = await Promise.all(versions.map((v, i) => put(`/-/package/racer/dist-tags/t${i}`, v)));
    expect(tags.map((r) => r.statusCode), tags.map((r) => r.body).join()).toEqual(versions.map(() => 201));
    const doc = (await node.request({ method: 'GET', url: `${API}/racer` })).json();
    expect(Object.keys(doc.versions).sort()).toEqual(versions);
    expect(Object.keys(doc['dist-tags']).length).toBe(versions.length + 1);
    expect(doc._rev).toMatch(new RegExp(`^${versions.length * 2}-`));
  });

  it('lets one of two racing publishes of the same version win, with a consistent tarball', async () => {
    await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const name = `twin-${i}`;
        const a = packPackage({ name, version: '1.0.0', description: 'a' });
        const b = packPackage({ name, version: '1.0.0', description: 'b' });
        const [ra, rb] = await Promise.all([put(`/${name}`, publishBody(a)), put(`/${name}`, publishBody(b))]);
        const codes = [ra.statusCode, rb.statusCode].sort();
        expect(codes[0], ra.body + rb.body).toBe(201);
        expect([403, 409], ra.body + rb.body).toContain(codes[1]);
        const doc = (await node.request({ method: 'GET', url: `${API}/${name}` })).json();
        const winner = doc.versions['1.0.0'].description === 'a' ? a : b;
        const tgz = await node.request({ method: 'GET', url: `${API}/${name}/-/${name}-1.0.0.tgz` });
        expect(tgz.statusCode).toBe(200);
        expect(tgz.rawPayload.equals(winner.tarball), `${name}: the stored tarball is not the winner's`).toBe(true);
      }),
    );
  });
});
