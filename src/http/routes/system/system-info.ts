import type { FastifyInstance } from 'fastify';
import type { ProviderNode } from '../../../binstore/chain/types.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';

/** One provider of the binary store chain as the System page lists it: no parameters (they may hold credentials). */
export interface ChainEntry {
  id: string;
  type: string;
  /** How deep it sits: 0 for the root, 1 for what it wraps or shards to… */
  depth: number;
  role: 'provider' | 'sub-provider' | 'dynamic-provider';
}

/** The providers of a chain, root first, depth first. */
export function chainEntries(root: ProviderNode | undefined): ChainEntry[] {
  const out: ChainEntry[] = [];
  const walk = (n: ProviderNode, depth: number, role: ChainEntry['role']) => {
    if (out.length >= 200) return;
    out.push({ id: n.id, type: n.type, depth, role });
    if (n.child) walk(n.child, depth + 1, 'provider');
    for (const s of n.subProviders) walk(s, depth + 1, 'sub-provider');
    if (n.dynamic) walk(n.dynamic, depth + 1, 'dynamic-provider');
  };
  if (root) walk(root, 0, 'provider');
  return out;
}

/**
 * `GET /api/system/info` (Arca's, admin): what the System page shows of this node: version,
 * runtime, database dialect and the binary store chain's providers. No parameters, paths of
 * secrets or credentials; the cluster's nodes come from `GET /api/system/status`.
 */
export async function systemInfoRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/artifactory/api/system/info', async (request) => {
    await requireAdmin(ctx, request);
    const { node } = ctx;
    return {
      version: node.version.version,
      revision: node.version.revision,
      releaseDate: node.version.releaseDate,
      nodeId: node.nodeId,
      startTime: new Date(node.startTime).toISOString(),
      uptimeSecs: Math.round((ctx.clock.now() - node.startTime) / 1000),
      runtime: `Node.js ${process.version}`,
      platform: `${process.platform} ${process.arch}`,
      database: node.database ?? 'unknown',
      binaryStore: chainEntries(node.binaryStore),
    };
  });
}
