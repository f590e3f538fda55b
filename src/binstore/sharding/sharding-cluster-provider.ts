import type { BinaryProvider } from '../binary-provider.js';
import { intParam, paramError } from '../chain/params.js';
import type { BuildContext, PeerNode, ProviderNode, ProviderType } from '../chain/types.js';
import type { Shard } from './behaviors.js';
import { describe } from './replication.js';
import { behaviorParam, ShardingProvider, shardOf } from './sharding-provider.js';

/** A failed peer triggers a refresh of the peer list, but not more often than this. */
const MIN_REFRESH_MS = 1000;

/**
 * The remote shards of a sharding-cluster provider: one provider per live peer, built from
 * the `<dynamic-provider>` template, refreshed from the node registry every `checkPeriod`
 * and soon after a peer fails. Peers that left are closed; a peer whose URL changed is rebuilt.
 */
export class PeerShards {
  private readonly remotes = new Map<string, { peer: PeerNode; shard: Shard }>();
  private refreshedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly ctx: BuildContext,
    private readonly dynamic: ProviderNode,
    private readonly checkPeriod: number,
  ) {}

  /** The remote shards, refreshed first when the list is older than checkPeriod. */
  async current(): Promise<Shard[]> {
    if (this.ctx.clock.now() - this.refreshedAt >= this.checkPeriod) await this.refresh();
    return [...this.remotes.values()].map((r) => r.shard);
  }

  /** Asks for a refresh at the next use (at most once per second). */
  invalidate(): void {
    this.refreshedAt = Math.min(this.refreshedAt, this.ctx.clock.now() - this.checkPeriod + MIN_REFRESH_MS);
  }

  /** Refreshes now unless the list is less than a second old (a write short of shards asks for it). */
  async refreshSoon(): Promise<void> {
    if (this.ctx.clock.now() - this.refreshedAt >= MIN_REFRESH_MS) await this.refresh();
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    let peers: PeerNode[];
    try {
      peers = await this.ctx.peers();
    } catch (err) {
      // Keep the shards we know; try again after a short while.
      this.ctx.log.warn({ err: describe(err) }, 'could not read the live peers for the cluster file store');
      this.refreshedAt = this.ctx.clock.now() - this.checkPeriod + MIN_REFRESH_MS;
      return;
    }
    const live = new Map(peers.filter((p) => p.nodeId !== this.ctx.nodeId).map((p) => [p.nodeId, p]));
    for (const [nodeId, known] of [...this.remotes]) {
      const now = live.get(nodeId);
      if (now && now.url === known.peer.url) continue;
      this.remotes.delete(nodeId);
      await known.shard.provider.close?.();
      this.ctx.log.info({ peer: nodeId }, now ? 'peer node moved; reconnecting its shard' : 'peer node left; its shard is no longer used');
    }
    for (const [nodeId, peer] of live) {
      if (this.remotes.has(nodeId)) continue;
      const provider = await this.ctx.build(this.dynamic, { peer });
      this.remotes.set(nodeId, { peer, shard: shardOf(this.dynamic, provider, false, `${this.dynamic.id}@${nodeId}`) });
      this.ctx.log.info({ peer: nodeId, url: peer.url }, 'peer node joined the cluster file store');
    }
    this.refreshedAt = this.ctx.clock.now();
  }

  async close(): Promise<void> {
    await this.refreshing?.catch(() => undefined);
    for (const { shard } of this.remotes.values()) await shard.provider.close?.();
    this.remotes.clear();
  }
}

/**
 * The seed's `sharding-cluster` provider (cluster-file-system): this node's local shard(s)
 * plus one remote shard per live peer. With crossNetworkStrategy a write lands locally first
 * and then on peers in other zones; a read is served locally, else streamed from a peer.
 */
export class ShardingClusterProvider extends ShardingProvider {
  constructor(
    private readonly localShards: Shard[],
    readonly peers: PeerShards,
    opts: Omit<ConstructorParameters<typeof ShardingProvider>[0], 'shards' | 'type' | 'onShardFailure' | 'refreshShards'>,
  ) {
    super({
      ...opts,
      type: 'sharding-cluster',
      shards: async () => [...localShards, ...(await peers.current())],
      onShardFailure: (shard) => {
        if (!shard.local) peers.invalidate();
      },
      refreshShards: () => peers.refreshSoon(),
    });
  }

  /** The sub-provider on this node's own disks, which the node API serves to peers. */
  get localProvider(): BinaryProvider {
    return (this.localShards.find((s) => s.writeEnabled) ?? this.localShards[0]).provider;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.peers.close();
  }
}

const LOCAL_FILE_TYPES = new Set(['state-aware', 'file-system']);

export const shardingClusterProviderType: ProviderType = {
  type: 'sharding-cluster',
  async create({ node, ctx, subs }) {
    if (subs.length === 0) throw paramError(node, 'a local <sub-provider> (state-aware, zone local) is required');
    if (!node.dynamic) throw paramError(node, 'a <dynamic-provider type="remote"> is required (one remote shard per peer node)');
    const local = subs.map((p, i) => shardOf(node.subProviders[i] ?? node, p, true, node.subProviders[i]?.id ?? `${node.id}-local-${i + 1}`));
    const peers = new PeerShards(ctx, node.dynamic, intParam(node.dynamic, 'checkPeriod', 15_000));
    // Local shards that are not plain file stores (eventual-cluster → retry → a bucket) stage
    // in front of one store that every node shares.
    const sharedBackend = node.subProviders.some((sub) => !LOCAL_FILE_TYPES.has(sub.type));
    const provider = new ShardingClusterProvider(local, peers, {
      id: node.id,
      redundancy: intParam(node, 'redundancy', 2, 1),
      lenientLimit: intParam(node, 'lenientLimit', 1, 0),
      readBehavior: behaviorParam(node, 'readBehavior', 'crossNetworkStrategy'),
      writeBehavior: behaviorParam(node, 'writeBehavior', 'crossNetworkStrategy'),
      clock: ctx.clock,
      log: ctx.log,
      sharedBackend,
    });
    ctx.onNodeApi?.({ local: provider.localProvider, secret: ctx.nodeSecret, nodeId: ctx.nodeId });
    return provider;
  },
};
