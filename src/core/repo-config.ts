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

/** The trash can's repository (the seed's name): deleted items of local repositories go there. */
export const TRASH_REPO_KEY = 'auto-trashcan';

/**
 * The trash can as a repository: a local generic one that is not listed, not deployable, and
 * that only administrators see (security/access.ts). Its items sit at `{repo}/{path}`.
 */
export const TRASH_REPO: RepoConfig = Object.freeze({
  key: TRASH_REPO_KEY,
  rclass: 'local',
  packageType: 'generic',
  description: 'Trash can: deleted items, kept for trashcanConfig.retentionPeriodDays',
  notes: '',
  includesPattern: '**/*',
  excludesPattern: '',
  repoLayoutRef: 'simple-default',
  blackedOut: false,
  trash: true,
}) as RepoConfig;

export function isTrashRepo(repo: Pick<RepoConfig, 'key'>): boolean {
  return repo.key === TRASH_REPO_KEY;
}
