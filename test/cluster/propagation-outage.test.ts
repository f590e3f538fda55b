import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, within, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { startDedicatedPostgres } from '../e2e/harness/dedicated-pg.js';

/**
 * The listening connection across a real PostgreSQL outage (the server stopped for 3 s), with
 * the poll stretched to ten minutes so that only the listener can carry changes: it must
 * reconnect by itself and catch up on the change made before it was back.
 */
describe('PostgreSQL LISTEN across a database outage', () => {
  let server: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  const anon = async () => (await b.request({ url: '/artifactory/api/repositories', headers: { authorization: '' } })).statusCode;
  const setAnon = (on: boolean) =>
    a.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: `security:\n  anonAccessEnabled: ${on}\n` });

  beforeAll(async () => {
    server = await startDedicatedPostgres();
    cluster = await startCluster('postgresql', 2, { pgUrl: server.url, env: { ARCA_PROPAGATION_POLLINTERVALMS: '600000' } });
    [a, b] = cluster.nodes;
    await within(5000, async () => a.ctx.versions.pushConnected && b.ctx.versions.pushConnected);
  });
  afterAll(async () => {
    await cluster?.close();
    await server?.destroy();
  });

  it('reconnects after the server comes back, catches up, and is notified again', async () => {
    expect(await anon()).toBe(401);
    await server.stop();
    await within(5000, async () => !b.ctx.versions.pushConnected);
    await new Promise((r) => setTimeout(r, 3000));
    await server.start();
    // The first statements after the outage may meet pool connections the server closed.
    await within(10_000, async () => (await setAnon(true).catch(() => undefined))?.statusCode === 200);
    // Only the reconnection's catch-up read can tell node B.
    await within(10_000, async () => (await anon()) === 200);
    await within(10_000, async () => a.ctx.versions.pushConnected && b.ctx.versions.pushConnected);
    expect((await setAnon(false)).statusCode).toBe(200);
    expect(await within(2000, async () => (await anon()) === 401)).toBeLessThan(500);
  });
});
