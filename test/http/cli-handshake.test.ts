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
