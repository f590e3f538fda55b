/**
 * Runs one client flow twice: against a single node process, and through the nginx
 * balancer of a two-node cluster on a dedicated PostgreSQL (skipped, with a printed
 * reason, when nginx is not installed). `flow(label, base)` registers the tests; `base()`
 * is the `…/artifactory` URL of the server under test once the hooks have run.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { startNodeProcess, type NodeProcess } from '../../helpers/node-process.js';
import { NGINX, TestCluster } from './cluster.js';
import { startDedicatedPostgres } from './dedicated-pg.js';

export function describeOnNodeAndCluster(
  tool: string,
  flow: (label: string, base: () => string) => void,
  nodeOptions: Parameters<typeof startNodeProcess>[0] = {},
): void {
  describe(`${tool} e2e on one node`, () => {
    let node: NodeProcess;
    beforeAll(async () => {
      node = await startNodeProcess(nodeOptions);
    }, 60_000);
    afterAll(async () => {
      await node?.cleanup();
    });
    flow('a single node', () => node.base);
  });

  if (!NGINX) console.warn(`[skip] ${tool} e2e through a cluster: nginx is not installed`);

  describe.skipIf(!NGINX)(`${tool} e2e through the nginx balancer of a two-node cluster`, () => {
    let pg: Awaited<ReturnType<typeof startDedicatedPostgres>>;
    let cluster: TestCluster;
    beforeAll(async () => {
      pg = await startDedicatedPostgres();
      cluster = new TestCluster({ type: 'postgresql', url: pg.url }, 2);
      await cluster.create();
      await cluster.startAll();
      await cluster.startNginx();
    }, 180_000);
    afterAll(async () => {
      await cluster?.destroy();
      await pg?.destroy();
    }, 60_000);
    flow('a cluster', () => `${cluster.lbUrl}/artifactory`);
  });
}
