import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const REPO = 'npm-gen';

/** The generic `/artifactory/{repo}/{path}` routes on an npm repository (the npm FormatHandler). */
describe('npm repository through the generic API (inject)', () => {
  let node: TestNode;
  const deploy = (path: string, body: Buffer | string) => node.request({ method: 'PUT', url: `/artifactory/${REPO}/${path}`, payload: body });
  const packument = (name: string) => node.request({ method: 'GET', url: `/artifactory/api/npm/${REPO}/${name}` });

  beforeAll(async () => {
    node = await startTestNode();
    expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${REPO}`, payload: { rclass: 'local', packageType: 'npm' } })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('indexes a tarball deployed at the npm layout path, as jf rt upload does', async () => {
    const pkg = packPackage({ name: '@gen/tool', version: '1.2.3', description: 'uploaded' });
    expect((await deploy('@gen/tool/-/@gen/tool-1.2.3.tgz', pkg.tarball)).statusCode).toBe(201);
    const res = await packument('@gen%2ftool');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: '@gen/tool', 'dist-tags': { latest: '1.2.3' }, versions: { '1.2.3': { description: 'uploaded' } } });
    const tgz = await node.request({ method: 'GET', url: new URL(res.json().versions['1.2.3'].dist.tarball).pathname });
    expect(tgz.rawPayload.equals(pkg.tarball)).toBe(true);
  });

  it('refuses a tarball whose package.json does not match its path, and writes into .npm/', async () => {
    const pkg = packPackage({ name: 'other', version: '1.0.0' });
    const bad = await deploy('wrong/-/wrong-1.0.0.tgz', pkg.tarball);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toContain('other@1.0.0');
    expect((await node.request({ method: 'GET', url: `/artifactory/${REPO}/wrong/-/wrong-1.0.0.tgz` })).statusCode).toBe(404);
    const meta = await deploy('.npm/x/package.json', '{}');
    expect(meta.statusCode).toBe(403);
  });

  it('drops versions from the document when their tarballs are deleted generically', async () => {
    for (const v of ['1.0.0', '2.0.0']) {
      const res = await node.request({
        method: 'PUT',
        url: `/artifactory/api/npm/${REPO}/del-me`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(publishBody(packPackage({ name: 'del-me', version: v }))),
      });
      expect(res.statusCode).toBe(201);
    }
    expect((await node.request({ method: 'DELETE', url: `/artifactory/${REPO}/del-me/-/del-me-2.0.0.tgz` })).statusCode).toBe(204);
    const doc = (await packument('del-me')).json();
    expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
    expect(doc['dist-tags'].latest).toBe('1.0.0');
    expect((await node.request({ method: 'DELETE', url: `/artifactory/${REPO}/del-me` })).statusCode).toBe(204);
    expect((await packument('del-me')).statusCode).toBe(404);
  });
});
