import { createHmac } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';
import { MetricsRegistry } from '../../metrics/registry.js';
import type { BinaryProvider } from '../binary-provider.js';
import { guardProvider } from '../guard/guarded-provider.js';
import { ProviderMetrics } from '../guard/provider-metrics.js';
import { providerRegistry, type ProviderRegistry } from './provider-registry.js';
import type { BuildContext, PeerNode, ProviderNode } from './types.js';

/** Everything a chain needs from the node, i.e. a BuildContext without `build` (the builder adds it). */
export type ChainDeps = Omit<BuildContext, 'build'>;

export interface BuildOptions {
  /** Named in errors (etc/binarystore.xml). */
  file?: string;
  /** The provider types to build with (tests pass their own). */
  registry?: ProviderRegistry;
}

/** The cluster-wide secret of node-to-node binary store requests: an HMAC of the master key with a fixed label. */
export function deriveNodeSecret(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('arca:binarystore:node-secret').digest();
}

function* walk(node: ProviderNode): Generator<ProviderNode> {
  yield node;
  if (node.child) yield* walk(node.child);
  for (const s of node.subProviders) yield* walk(s);
  if (node.dynamic) yield* walk(node.dynamic);
}

/**
 * The BuildContext of one chain: `build(node)` builds a resolved node bottom-up into one
 * BinaryProvider (a wrapper's child first, a sharding provider's sub-providers in document
 * order, then the provider itself). Every provider built is wrapped in the guard
 * (`guard/guarded-provider.ts`: key validation, metrics, errors stamped with the provider id),
 * so wrappers and sharding providers hold guarded children and the root is guarded. Dynamic providers are not built with their parent:
 * sharding-cluster calls `ctx.build(node.dynamic, { peer })` once per live peer. Every type
 * of the tree is checked against the registry before anything is created; when a create
 * fails, the providers already built are closed. Providers may key per-chain state on the
 * returned object (e.g. the node API of a sharding-cluster chain).
 */
export function chainBuilder(deps: ChainDeps, options: BuildOptions = {}): BuildContext {
  const registry = options.registry ?? providerRegistry();
  const file = options.file ?? 'binarystore.xml';
  const unavailable = (n: ProviderNode) =>
    new ConfigError(
      `${file}: <provider id="${n.id}" type="${n.type}">: provider type '${n.type}' is not available in this build (available: ${[...registry.keys()].join(', ')})`,
    );

  const metrics = new ProviderMetrics(deps.metrics ?? new MetricsRegistry());

  const buildNode = async (node: ProviderNode, peer?: PeerNode): Promise<BinaryProvider> => {
    const type = registry.get(node.type);
    if (!type) throw unavailable(node);
    const built: BinaryProvider[] = [];
    try {
      const child = node.child ? await buildNode(node.child) : undefined;
      if (child) built.push(child);
      const subs: BinaryProvider[] = [];
      for (const s of node.subProviders) {
        const sub = await buildNode(s);
        built.push(sub);
        subs.push(sub);
      }
      const provider = await type.create({ node, ctx, child, subs, peer });
      return guardProvider(provider, { id: peer ? `${node.id}@${peer.nodeId}` : node.id, type: node.type, metrics, log: ctx.log });
    } catch (err) {
      for (const b of built.reverse()) await b.close?.().catch(() => undefined);
      throw err;
    }
  };

  const ctx: BuildContext = {
    ...deps,
    build: async (node, extra) => {
      for (const n of walk(node)) if (!registry.has(n.type)) throw unavailable(n);
      return buildNode(node, extra?.peer);
    },
  };
  return ctx;
}

/** Builds a resolved chain with a new builder (see `chainBuilder`). */
export async function buildChain(root: ProviderNode, deps: ChainDeps, options: BuildOptions = {}): Promise<BinaryProvider> {
  return chainBuilder(deps, options).build(root);
}
