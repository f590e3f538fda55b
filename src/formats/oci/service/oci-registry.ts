import type { ContentStore } from '../../../content/content-store.js';
import type { Clock } from '../../../core/clock.js';
import type { Database } from '../../../db/database.js';
import { OciBlobs } from './blobs.js';
import { OciDiscovery } from './discovery.js';
import { OciManifests } from './manifests.js';
import { OciStore } from './oci-store.js';
import { OciUploads } from './uploads.js';

/** What the registry services are built from. */
export interface OciDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
}

/** The registry services of local docker/oci repositories (remote and virtual ones build on them). */
export interface OciRegistry {
  store: OciStore;
  blobs: OciBlobs;
  uploads: OciUploads;
  manifests: OciManifests;
  discovery: OciDiscovery;
}

/** The registry services of one node, built once by the composition root. */
export function createOciRegistry(deps: OciDeps): OciRegistry {
  const store = new OciStore(deps.database, deps.content, deps.clock);
  const blobs = new OciBlobs(store);
  const manifests = new OciManifests(store, blobs);
  return { store, blobs, uploads: new OciUploads(store), manifests, discovery: new OciDiscovery(store, manifests) };
}

