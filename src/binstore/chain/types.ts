import type { Clock } from '../../core/clock.js';
import type { MetricsRegistry } from '../../metrics/registry.js';
import type { BinaryProvider } from '../binary-provider.js';
import type { NodeBinstore } from '../sharding/node-auth.js';

/**
 * The contract between the binarystore.xml chain builder and the provider types it can
 * build. Every provider type (file-system, cache-fs, eventual, retry, sharding, s3, azure…)
 * exports one `ProviderType`; the builder lists them in one typed registry
 * (`chain/provider-registry.ts`), declares their parameters in one catalogue
 * (`chain/catalog.ts`), resolves templates and overrides into a `ProviderNode`
 * tree with every parameter's effective value, then calls `create` bottom-up.
 */

/** One parameter a provider type understands, with its default as the seed documents it. */
export interface ParamSpec {
  name: string;
  /** The effective value when binarystore.xml does not set it; absent = no default. */
  default?: string;
  /** Start-up fails, naming the provider element, when a required parameter is missing. */
  required?: boolean;
  /**
   * A default that depends on the node rather than on the catalogue: `dataDir` is the
   * node's data directory (`artifactory.ha.data.dir` when set), filled in by the resolver.
   */
  defaultFrom?: 'dataDir';
  description: string;
}

/** How a provider nests: a leaf stores bytes, a wrapper has exactly one child, a sharding provider has sub-providers. */
export type ProviderShape = 'leaf' | 'wrapper' | 'sharding';

/** One resolved element of the chain with every effective parameter (defaults filled in). */
export interface ProviderNode {
  id: string;
  type: string;
  params: Record<string, string>;
  /** Which parameters came from binarystore.xml rather than from defaults (for `arca binarystore show`). */
  explicit: string[];
  /** Parameters the chain template sets (e.g. a shard's zone), not overridden by the file. */
  templateSet?: string[];
  /** The single wrapped provider of a wrapper. */
  child?: ProviderNode;
  /** `<sub-provider>` elements of a sharding provider. */
  subProviders: ProviderNode[];
  /** `<dynamic-provider>` of a sharding-cluster provider: instantiated once per live peer. */
  dynamic?: ProviderNode;
}

/** A live peer node, as the node registry reports it. */
export interface PeerNode {
  nodeId: string;
  /** The node's `context.url` (base URL up to and including `/artifactory`). */
  url: string;
}

/** What the builder hands every provider type. */
export interface BuildContext {
  /** `baseDataDir` default: the node's data dir (or `artifactory.ha.data.dir` on a shared mount). */
  dataDir: string;
  /** This node's id (`node.id` of ha-node.properties, or the standalone id). */
  nodeId: string;
  clock: Clock;
  log: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };
  /** Live peers other than this node (cluster-file-system's remote dynamic providers); empty when standalone. */
  peers(): Promise<PeerNode[]>;
  /** Secret shared by every node of the cluster (derived from the master key) for node-to-node requests. */
  nodeSecret: Buffer;
  /** Where every provider's guard records its metrics (`guard/provider-metrics.ts`); a private registry when absent. */
  metrics?: MetricsRegistry;
  /**
   * Told what the node API (http/routes/system/binstore-node.ts) serves to peers, when the chain has
   * a sharding-cluster provider: this node's local store and the node secret.
   */
  onNodeApi?(api: NodeBinstore): void;
  /**
   * Builds a provider from a resolved node (the dynamic-provider template once per peer).
   * The builder passes itself here so sharding providers can instantiate peers on demand.
   */
  build(node: ProviderNode, extra?: { peer?: PeerNode }): Promise<BinaryProvider>;
}

export interface CreateArgs {
  node: ProviderNode;
  ctx: BuildContext;
  /** A wrapper's built child. */
  child?: BinaryProvider;
  /** A sharding provider's built sub-providers, in document order. */
  subs: BinaryProvider[];
  /** Set when the builder instantiates a dynamic provider for one peer. */
  peer?: PeerNode;
}

/**
 * What a provider implementation exports. Its parameters (names, defaults, required) and
 * shape are declared once in the catalog (`chain/catalog.ts`), which also feeds
 * `arca binarystore show` and docs/configuration.md; `create` reads `node.params`, where
 * every catalogued parameter already holds its effective value.
 */
export interface ProviderType {
  type: string;
  create(args: CreateArgs): Promise<BinaryProvider>;
}

/** One catalogue entry: a provider type's shape and parameters. */
export interface ProviderSpec {
  type: string;
  shape: ProviderShape;
  params: ParamSpec[];
  description: string;
}
