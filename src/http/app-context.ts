import type { ProviderNode } from '../binstore/chain/types.js';
import type { Logger } from 'pino';
import type { NodeBinstore } from '../binstore/sharding/node-auth.js';
import type { ConfigFiles } from '../cluster/config-files.js';
import type { ConfigVersions } from '../cluster/config-versions.js';
import type { LicenseManager } from '../cluster/licenses/license-manager.js';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { TaskService } from '../cluster/tasks/task-service.js';
import type { Clock } from '../core/clock.js';
import type { FormatHandlers } from '../formats/format-handlers.js';
import type { FormatServices } from '../formats/format-services.js';
import type { MetricsRegistry, RegistrySnapshot } from '../metrics/registry.js';
import type { SecurityService } from '../security/security-service.js';
import type { ArtifactService } from '../services/artifacts.js';
import type { PackageServices } from '../services/remote/package-services.js';
import type { RepositoryService } from '../services/repositories.js';
import type { AqlService } from '../services/aql/aql-service.js';
import type { BuildService } from '../services/builds/build-service.js';
import type { BuildPromotion } from '../services/builds/build-promotion.js';
import type { CopyMoveService } from '../services/copy-move.js';
import type { SearchService } from '../services/search.js';
import type { StorageInfoService } from '../services/storage-info.js';
import type { DownloadStats } from '../services/download-stats.js';
import type { NodeHealth } from '../services/health.js';
import type { ServeService } from '../services/serve/serve-service.js';
import type { StorageApiService } from '../services/storage-api.js';
import type { ArchiveServices } from '../services/archives/archive-services.js';
import type { SystemSettings } from '../services/system-settings.js';
import type { TrashCan } from '../services/trash/trash-can.js';
import type { ReplicationConfigService } from '../services/replication/replication-store.js';
import type { ReplicationRunner } from '../services/replication/runner.js';
import type { ChangeCapture } from '../services/replication/change-capture.js';
import type { ReplicationApply } from '../services/replication/replication-apply.js';
import type { SigningKeyStore } from '../security/signing/key-store.js';

export interface VersionInfo {
  version: string;
  revision: string;
  releaseDate: string;
}

export interface NodeInfo {
  nodeId: string;
  home: string;
  dataDir: string;
  startTime: number;
  version: VersionInfo;
  /** The database's dialect (sqlite, postgresql, mysql…), for the System page. */
  database?: string;
  /** The binary store chain of binarystore.xml, for the System page (its parameters are never shown). */
  binaryStore?: ProviderNode;
}

/** Lifecycle flags read by readiness and by the drain on SIGTERM. */
export interface NodeState {
  ready: boolean;
  draining: boolean;
}

/** Everything the HTTP layer uses, built once by the composition root (`node/context.ts`). */
export interface AppContext {
  node: NodeInfo;
  state: NodeState;
  clock: Clock;
  log: Logger;
  versions: ConfigVersions;
  /** The format handlers by package type (from the typed registry). */
  formats: FormatHandlers;
  repos: RepositoryService;
  artifacts: ArtifactService;
  security: SecurityService;
  settings: SystemSettings;
  /** Proxying, virtual resolution and deploy with format hooks, shared by every format's routes. */
  packages: PackageServices;
  /** Reads of local, remote and virtual repositories, and what a caller may see of them. */
  serve: ServeService;
  /** The ping's checks (database, binary store). */
  health: NodeHealth;
  /** The formats' own services (npm packages, PyPI pages, the OCI registry), by format module. */
  formatServices: FormatServices;
  /** The search API (artifact name, checksum, properties). */
  search: SearchService;
  /** AQL (`POST /api/search/aql`), the items domain. */
  aql: AqlService;
  /** Copy and move (`POST /api/copy/…`, `/api/move/…`). */
  copyMove: CopyMoveService;
  /** Build Info (`/api/build`): publish, list, get, delete, retention. */
  builds: BuildService;
  /** Build promotion (`POST /api/build/promote/…`). */
  buildPromotion: BuildPromotion;
  /** The trash can (`auto-trashcan`): restore, clean, empty, prune. */
  trash: TrashCan;
  /** Replication configuration (`/api/replications`), in the shared database. */
  replications: ReplicationConfigService;
  /** The replication runner: event delivery, scheduled runs, run records and status (issue 16). */
  replicationRunner: ReplicationRunner;
  /** Event replication: the targets of each repository and the queue its changes go to. */
  replicationCapture: ChangeCapture;
  /** The target side of replication: deploys and deletes carrying X-Arca-Replication-Origin. */
  replicationApply: ReplicationApply;
  /** OpenPGP key pairs that sign repository metadata (`/api/gpg/key`, `/api/security/keypair`). */
  signingKeys: SigningKeyStore;
  /** Storage summary (`/api/storageinfo`). */
  storageInfo: StorageInfoService;
  /** Download counts per item, batched (`?stats`, AQL `stat.*`). */
  downloadStats: DownloadStats;
  /** The storage API: item info, listings and properties. */
  storageApi: StorageApiService;
  /** Archives: explode on deploy, the archive entry index, folder downloads. */
  archives: ArchiveServices;
  metrics: MetricsRegistry;
  registry: NodeRegistry;
  /** Mirrored configuration files (binarystore.xml, system properties) and who runs which copy. */
  configFiles: ConfigFiles;
  masterKey: Buffer;
  /** Cluster-wide tasks (GC, backup, import…): their runs, and runs on demand. */
  tasks: TaskService;
  /** This node's side of the Cluster License Manager (off when no license public key is configured). */
  licenses: LicenseManager;
  /** Metrics of every process of this node (workers ask the primary); defaults to this process. */
  collectMetrics(): Promise<RegistrySnapshot>;
  /** Runs garbage collection now, as a cluster task run (waits for it; returns its counts). */
  runGc(): Promise<unknown>;
  /** This node's local shard and the cluster's node secret when binarystore.xml has a sharding-cluster provider (the internal node API). */
  binstoreNode?: NodeBinstore;
}
