import type { InjectOptions } from 'fastify';
import { startCluster } from '../helpers/cluster-nodes.js';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startTestNode } from '../helpers/node-context.js';
import type { OciResponse, OciTarget } from './oci-client.js';
import { ociConformance } from './oci-conformance.js';

type Inject = (opts: InjectOptions) => Promise<{ statusCode: number; headers: OciResponse['headers']; rawPayload: Buffer }>;

function target(inject: () => Inject, repoKey: string, close: () => Promise<void>): OciTarget {
  return {
    repoKey,
    close,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { authorization: ADMIN_AUTH, ...(opts.headers ?? {}) };
      if (headers.authorization === '') delete headers.authorization;
      const r = await inject()({ method: method as InjectOptions['method'], url: path, headers, payload: opts.body });
      return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
    },
  };
}

async function createRepo(inject: Inject, key: string): Promise<void> {
  const r = await inject({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, headers: { authorization: ADMIN_AUTH }, payload: { rclass: 'local', packageType: 'docker' } });
  if (r.statusCode >= 300) throw new Error(`create ${key}: ${r.statusCode} ${r.rawPayload}`);
}

ociConformance('one in-process node', async () => {
  const node = await startTestNode();
  const inject: Inject = (o) => node.app.inject(o);
  await createRepo(inject, 'docker-local');
  return target(() => inject, 'docker-local', () => node.close());
});

ociConformance('three in-process nodes on one database, each request to the next node', async () => {
  const cluster = await startCluster('sqlite', 3);
  let i = 0;
  const next: () => Inject = () => (o) => cluster.nodes[i++ % cluster.nodes.length].app.inject(o);
  await createRepo(next(), 'docker-ha');
  return target(next, 'docker-ha', () => cluster.close());
});
