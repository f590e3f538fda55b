import { azureProviderType } from '../cloud/azure-provider.js';
import { googleProviderType } from '../cloud/google-provider.js';
import { s3ProviderType } from '../cloud/s3-provider.js';
import { fileSystemProviderType, stateAwareProviderType } from '../file-system-provider.js';
import { remoteProviderType } from '../sharding/remote-provider.js';
import { shardingClusterProviderType } from '../sharding/sharding-cluster-provider.js';
import { shardingProviderType } from '../sharding/sharding-provider.js';
import { cacheFsProviderType } from '../wrappers/cache-fs-provider.js';
import { eventualClusterProviderType, eventualProviderType } from '../wrappers/eventual-provider.js';
import { retryProviderType } from '../wrappers/retry-provider.js';
import type { ProviderType } from './types.js';

/**
 * Every provider type this build can instantiate: one line per type, no loading by name at
 * runtime. A type that is in the catalogue (`catalog.ts`) but not here resolves and shows
 * in `arca binarystore show`, and fails at build with "provider type 'x' is not available
 * in this build". Aliases (`s3`, `google-storage`, `azure-blob-storage-v2`) are resolved by
 * the catalogue: register the canonical type only.
 */
export const PROVIDER_TYPES: readonly ProviderType[] = [
  fileSystemProviderType,
  stateAwareProviderType,
  shardingProviderType,
  shardingClusterProviderType,
  remoteProviderType,
  s3ProviderType,
  googleProviderType,
  azureProviderType,
  cacheFsProviderType,
  eventualProviderType,
  eventualClusterProviderType,
  retryProviderType,
];

export type ProviderRegistry = ReadonlyMap<string, ProviderType>;

export function providerRegistry(types: readonly ProviderType[] = PROVIDER_TYPES): ProviderRegistry {
  const map = new Map<string, ProviderType>();
  for (const t of types) {
    if (map.has(t.type)) throw new Error(`Provider type '${t.type}' is registered twice`);
    map.set(t.type, t);
  }
  return map;
}
