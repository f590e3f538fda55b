import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartTgz } from '../../../test/helpers/helm-charts.js';
import { startTestNode, type TestNode } from '../../node/testing/test-node.js';

/** The chart API's bounds and failure answers, in process (app.inject). */
describe('the Helm chart API', () => {
  let node: TestNode;
  const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

  beforeAll(async () => {
    node = await startTestNode();
    const repos: Array<[string, Record<string, unknown>]> = [
      ['h-local', { rclass: 'local' }],
      // An upstream that refuses connections: its member is dropped, the rest still answers.
      ['h-dead', { rclass: 'remote', url: 'http://127.0.0.1:9/charts', assumedOfflinePeriodSecs: 0 }],
      ['h-virtual', { rclass: 'virtual', repositories: ['h-dead', 'h-local'] }],
    ];
    for (const [key, config] of repos) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { key, packageType: 'helm', ...config } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const res = await node.request({ method: 'POST', url: '/artifactory/api/helm/h-local/api/charts', payload: chartTgz({ name: 'kept', version: '1.0.0' }), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('refuses an upload over the archive limit with 413, storing nothing', async () => {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/helm/h-local/api/charts', payload: Buffer.alloc(34 * 1024 * 1024, 0x1f), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(413);
    expect(json(res.body).error).toMatch(/larger than/);
    const put = await node.request({ method: 'PUT', url: '/artifactory/api/helm/h-local/big-1.0.0.tgz', payload: Buffer.alloc(33 * 1024 * 1024, 0x1f) });
    expect(put.statusCode).toBe(400);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/h-local/big-1.0.0.tgz' })).statusCode).toBe(404);
  });

  it('gives one of several concurrent uploads of a new version the 201, the others a 409', async () => {
    const upload = () => node.request({ method: 'POST', url: '/artifactory/api/helm/h-local/api/charts', payload: chartTgz({ name: 'race', version: '1.0.0' }), headers: { 'content-type': 'application/octet-stream' } });
    const answers = await Promise.all(Array.from({ length: 6 }, upload));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.statusCode === 409)) expect(json(a.body)).toEqual({ error: 'file already exists' });
    const index = await node.request({ method: 'GET', url: '/artifactory/api/helm/h-local/api/charts/race' });
    expect((JSON.parse(index.body) as unknown[]).length).toBe(1);
  });

  it('asks an anonymous uploader to log in before reading the body', async () => {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/helm/h-local/api/charts', payload: chartTgz({ name: 'anon', version: '1.0.0' }), headers: { authorization: '', 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(401);
    expect(json(res.body)).toHaveProperty('error');
  });

  it('answers a remote whose upstream is down with 502, and leaves it out of a virtual index', async () => {
    const remote = await node.request({ method: 'GET', url: '/artifactory/api/helm/h-dead/index.yaml' });
    expect(remote.statusCode).toBe(502);
    expect(json(remote.body)).toHaveProperty('error');
    const virtual = await node.request({ method: 'GET', url: '/artifactory/api/helm/h-virtual/index.yaml' });
    expect(virtual.statusCode, virtual.body).toBe(200);
    expect(Object.keys((parse(virtual.body) as { entries: object }).entries)).toContain('kept');
  });

  it('refuses deletes through a virtual repository and unknown ChartMuseum methods', async () => {
    expect((await node.request({ method: 'DELETE', url: '/artifactory/api/helm/h-virtual/api/charts/kept/1.0.0' })).statusCode).toBe(405);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/helm/h-local/api/charts' })).statusCode).toBe(405);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/helm/h-local/.helm/entries/kept.json' })).statusCode).toBe(404);
  });
});
