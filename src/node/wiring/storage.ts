import type { ProviderNode } from '../../binstore/chain/types.js';
import type { BinaryProvider } from '../../binstore/binary-provider.js';
import { chainBuilder, deriveNodeSecret } from '../../binstore/chain/build.js';
import { resolveChain } from '../../binstore/chain/resolve.js';
import type { NodeBinstore } from '../../binstore/sharding/node-auth.js';
import type { NodeRegistry } from '../../cluster/node-registry.js';
import { readBinarystoreXml } from '../../config/binarystore.js';
import { ContentStore } from '../../content/content-store.js';
import type { Database } from '../../db/database.js';
import type { MetricsRegistry } from '../../metrics/registry.js';
import type { Wired } from '../lifecycle.js';
import { TempHousekeeping } from '../temp-housekeeping.js';
import type { NodeConfig } from './config.js';

/** The directory relative store directories live in: `artifactory.ha.data.dir` (the seed's NFS option), else the home's data/. */
export function storeDataDir(cfg: Pick<NodeConfig, 'identity' | 'layout'>): string {
  return cfg.identity.haDataDir ?? cfg.layout.data;
}

export interface BinaryStore {
  /** The root of the chain of etc/binarystore.xml. */
  provider: BinaryProvider;
  /** What the internal node API serves to peers, when the chain has a sharding-cluster provider. */
  nodeApi: NodeBinstore | undefined;
  /** The chain as resolved from binarystore.xml (the System page shows its providers). */
  chain: ProviderNode;
}

/** The binary store chain of etc/binarystore.xml, with the live peers of the node registry. The chain's guard reports per-provider metrics into `metrics`. */
export async function openBinaryStore(cfg: NodeConfig, registry: NodeRegistry, masterKey: Buffer, metrics: MetricsRegistry): Promise<Wired<BinaryStore>> {
  const { layout, identity, log, clock } = cfg;
  const nodeId = identity.nodeId;
  const dataDir = storeDataDir(cfg);
  const chain = resolveChain(readBinarystoreXml(layout.binarystoreXml), { dataDir });
  if (cfg.init) for (const w of chain.warnings) log.warn(w);
  let nodeApi: NodeBinstore | undefined;
  const builder = chainBuilder(
    {
      dataDir,
      nodeId,
      clock,
      log: log.child({ component: 'binstore' }),
      peers: async () =>
        identity.haEnabled
          ? (await registry.list()).filter((n) => n.id !== nodeId && n.state === 'RUNNING' && n.url).map((n) => ({ nodeId: n.id, url: n.url! }))
          : [],
      nodeSecret: deriveNodeSecret(masterKey),
      onNodeApi: (api) => (nodeApi = api),
      metrics,
    },
    { file: layout.binarystoreXml },
  );
  const provider = await builder.build(chain.root);
  return { value: { provider, nodeApi, chain: chain.root }, close: () => provider.close?.() };
}

/** Content-addressed storage on the chain; at close its MD5 backfill stops. */
export function contentStore(cfg: Pick<NodeConfig, 'system' | 'clock' | 'log'>, database: Database, provider: BinaryProvider): Wired<ContentStore> {
  const { system, log } = cfg;
  const content = new ContentStore(database, provider, cfg.clock, {
    orphanSweepIntervalMs: system.number('arca.gc.orphanSweepIntervalSecs') * 1000,
    md5Backfill: {
      quietMs: system.number('arca.binarystore.md5DelaySecs') * 1000,
      sweepMs: system.number('arca.binarystore.md5SweepSecs') * 1000,
      onError: (sha1, err) => log.warn({ err, sha1: sha1 || undefined }, 'MD5 backfill: could not compute the MD5 of a binary'),
    },
  });
  return { value: content, close: () => content.md5Backfill.stop() };
}

/** The temp-file sweep of the node (started with the node's singletons; see start-up.ts for the sweep at start). */
export function tempHousekeeping(cfg: NodeConfig, registry: NodeRegistry, metrics: MetricsRegistry): Wired<TempHousekeeping> {
  const { system, log, clock } = cfg;
  const housekeeping = new TempHousekeeping({
    nodeRuns: () => registry.runs(),
    metrics,
    log,
    clock,
    staleMs: system.number('arca.tmp.staleSecs') * 1000,
    intervalMs: system.number('arca.tmp.sweepIntervalSecs') * 1000,
    dirs: [cfg.layout.tmp],
    legacyDeadAtStart: !cfg.identity.haEnabled,
  });
  return { value: housekeeping, close: () => housekeeping.stop() };
}
