/*
 * Repository configuration as plain types, on the floor every layer may read: security decides
 * on it, services validate and store it (services/repositories.ts).
 */

export type RepoClass = 'local' | 'remote' | 'virtual' | 'federated';

/** The JFrog JSON configuration of a repository (unknown fields are kept as given). */
export interface RepoConfig {
  key: string;
  rclass: RepoClass;
  packageType: string;
  description: string;
  notes: string;
  includesPattern: string;
  excludesPattern: string;
  repoLayoutRef: string;
  checksumPolicyType?: string;
  handleReleases?: boolean;
  handleSnapshots?: boolean;
  maxUniqueSnapshots?: number;
  blackedOut: boolean;
  [field: string]: unknown;
}
