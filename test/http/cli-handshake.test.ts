import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

/** The JFrog CLI's handshake calls around an upload (REST-API.md §11), and a precise 404 for REST calls Arca does not have. */
describe('CLI handshake', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode('sqlite');
  });
  afterAll(async () => {
    await node?.close();
  });

  it('says multipart uploads are not supported, so the CLI uploads with one PUT', async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/v1/uploads/config' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ supported: false });
    expect((await node.request({ method: 'GET', url: '/artifactory/api/v1/uploads/config', headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('takes a usage report from an authenticated caller, and refuses a large one', async () => {
    const report = { productId: 'jfrog-cli-go/2.60.0', features: [{ featureId: 'rt_upload' }] };
    expect((await node.request({ method: 'POST', url: '/artifactory/api/system/usage', payload: report })).statusCode).toBe(200);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/system/usage', payload: report, headers: { authorization: '' } })).statusCode).toBe(401);
    const big = { productId: 'x', features: [{ featureId: 'y'.repeat(100 * 1024) }] };
    expect((await node.request({ method: 'POST', url: '/artifactory/api/system/usage', payload: big })).statusCode).toBe(413);
  });

  it('answers an unknown REST call with a 404 that names it, not a missing repository "api"', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await node.request({ method, url: '/artifactory/api/nosuch/thing?x=1' });
      expect(res.statusCode, method).toBe(404);
      expect(res.json().errors[0].message).toBe(`No REST API at ${method} /artifactory/api/nosuch/thing`);
    }
    const post = await node.request({ method: 'POST', url: '/artifactory/api/nosuch' });
    expect(post.statusCode).toBe(404);
    expect(post.json().errors[0].message).toMatch(/No route for POST \/artifactory\/api\/nosuch/);
  });
});

describe('storage info', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode('sqlite');
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/si-local', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    for (const p of ['a/one.bin', 'a/b/two.bin', 'a/b/same.bin']) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/si-local/${p}`, payload: p.endsWith('same.bin') ? 'a/one.bin' : `${p}`.padEnd(1000, '.') })).statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await node?.close();
  });

  it("sums binaries, the file store and each repository in the seed's shape (admin only)", async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/storageinfo' });
    expect(res.statusCode, res.body).toBe(200);
    const info = res.json();
    expect(info.binariesSummary).toMatchObject({ binariesCount: '3', artifactsCount: '3', itemsCount: '5', artifactsSize: '1.96 KB' });
    expect(info.fileStoreSummary).toMatchObject({ storageType: expect.any(String), storageDirectory: expect.stringContaining(node.home) });
    expect(info.fileStoreSummary.freeSpace).toMatch(/ \(\d+\.\d\d%\)$/);
    const repo = info.repositoriesSummaryList.find((r: { repoKey: string }) => r.repoKey === 'si-local');
    expect(repo).toEqual({ repoKey: 'si-local', repoType: 'LOCAL', foldersCount: 2, filesCount: 3, usedSpace: '1.96 KB', usedSpaceInBytes: 2009, itemsCount: 5, packageType: 'generic', percentage: '100.00%' });
    expect(info.repositoriesSummaryList.at(-1)).toMatchObject({ repoKey: 'TOTAL', filesCount: 3, itemsCount: 5 });
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storageinfo', headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('serves the last calculation until POST calculate runs a new one', async () => {
    await node.request({ method: 'GET', url: '/artifactory/api/storageinfo' });
    expect((await node.request({ method: 'PUT', url: '/artifactory/si-local/later.bin', payload: 'later' })).statusCode).toBe(201);
    const before = (await node.request({ method: 'GET', url: '/artifactory/api/storageinfo' })).json();
    expect(before.binariesSummary.artifactsCount).toBe('3');
    expect((await node.request({ method: 'POST', url: '/artifactory/api/storageinfo/calculate' })).statusCode).toBe(202);
    const deadline = Date.now() + 5000;
    let after = before;
    while (after.binariesSummary.artifactsCount === '3' && Date.now() < deadline) after = (await node.request({ method: 'GET', url: '/artifactory/api/storageinfo' })).json();
    expect(after.binariesSummary.artifactsCount).toBe('4');
  });
});
