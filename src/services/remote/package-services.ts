import type { DownloadStats } from '../download-stats.js';
import type { LockManager } from '../../cluster/locks/lock-manager.js';
import type { ContentStore } from '../../content/content-store.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { FormatHandlers } from '../../formats/format-handlers.js';
import type { ArtifactService } from '../artifacts.js';
import { FormatDeployService } from '../format-deploy.js';
import { RemoteFetchService } from '../remote-fetch.js';
import type { RepositoryService } from '../repositories.js';
import { VirtualResolver } from '../serve/virtual-resolver.js';
import type { UpstreamNetwork } from './guarded-http.js';
import type { TrashCan } from '../trash/trash-can.js';

/** What the package services are built from. */
export interface PackageServiceDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
  repos: RepositoryService;
  artifacts: ArtifactService;
  /** The format handlers (deploy hooks, path kinds, metadata merging). */
  formats: FormatHandlers;
  masterKey: Buffer;
  node: { nodeId: string };
  /** Where remote repositories connect, and their connections. */
  network: UpstreamNetwork;
  /** Cluster locks (a node context has them): metadata updates then run one node at a time. */
  locks?: LockManager;
  /** Download statistics (a remote cache's fetches from upstream are counted). */
  downloadStats?: Pick<DownloadStats, 'recordRemote'>;
  /** The trash can (a node context has it): deletes in local repositories go there when it is on. */
  trash?: TrashCan;
}

/** The services every format's routes share: proxying, virtual resolution, deploy with format hooks. */
export interface PackageServices {
  remote: RemoteFetchService;
  /** The virtual resolver the serve service reads through (`ServeService.virtual`, the same one). */
  virtual: VirtualResolver;
  deploy: FormatDeployService;
}

/**
 * The package services of one node, built once by the composition root and shared by every
 * route plugin (so the in-process deduplication of upstream fetches spans all formats).
 */
export function createPackageServices(deps: PackageServiceDeps): PackageServices {
  const remote = new RemoteFetchService({ database: deps.database, content: deps.content, clock: deps.clock, formats: deps.formats, masterKey: deps.masterKey, network: deps.network, downloadStats: deps.downloadStats });
  return {
    remote,
    virtual: new VirtualResolver(deps.repos, deps.artifacts, remote),
    deploy: new FormatDeployService(
      deps.database,
      deps.content,
      deps.artifacts,
      deps.formats,
      deps.locks ? { locks: deps.locks, owner: `${deps.node.nodeId}/${process.pid}` } : undefined,
      deps.trash,
    ),
  };
}
