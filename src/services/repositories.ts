import type { ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import { REPO_KEY_PATTERN } from '../core/paths.js';
import { TRASH_REPO, TRASH_REPO_KEY, type RepoClass, type RepoConfig } from '../core/repo-config.js';
import { encryptSecret, isEncrypted } from '../core/secrets.js';
import type { Database } from '../db/database.js';
import type { Access } from '../security/access.js';
import { deleteTree, deleteTreeInBatches } from '../db/items.js';
import { DEFAULT_ADDRESS_POLICY, type AddressPolicy } from './remote/address-policy.js';
import { dropCacheRecords } from './remote/cache-records.js';
import { REMOTE_DEFAULTS } from './remote/remote-settings.js';

/** The repository configuration type lives in core/ (security reads it too); re-exported for the callers that import it from here. */
export type { RepoClass, RepoConfig } from '../core/repo-config.js';

export const PACKAGE_TYPES = [
  'alpine', 'bower', 'buildinfo', 'cargo', 'chef', 'cocoapods', 'composer', 'conan', 'conda', 'cran', 'debian', 'docker',
  'gems', 'generic', 'gitlfs', 'go', 'gradle', 'helm', 'ivy', 'maven', 'npm', 'nuget', 'oci', 'opkg', 'p2',
  'pub', 'puppet', 'pypi', 'rpm', 'sbt', 'swift', 'terraform', 'vagrant', 'yum',
] as const;

/** Classes this release can create; the others answer a clear 400. */
const SUPPORTED_CLASSES: RepoClass[] = ['local', 'remote', 'virtual'];
const RESERVED_KEYS = new Set(['api', 'ui', 'webapp', 'list', 'repo', 'auto-trashcan', 'access', 'router']);

const LOCAL_DEFAULTS = {
  description: '',
  notes: '',
  includesPattern: '**/*',
  excludesPattern: '',
  repoLayoutRef: 'simple-default',
  checksumPolicyType: 'client-checksums',
  handleReleases: true,
  handleSnapshots: true,
  maxUniqueSnapshots: 0,
  snapshotVersionBehavior: 'unique',
  suppressPomConsistencyChecks: false,
  blackedOut: false,
  propertySets: [] as string[],
  archiveBrowsingEnabled: false,
  xrayIndex: false,
  downloadRedirect: false,
  priorityResolution: false,
  projectKey: '',
  environments: [] as string[],
};

const VIRTUAL_DEFAULTS = {
  repositories: [] as string[],
  defaultDeploymentRepo: '',
  artifactoryRequestsCanRetrieveRemoteArtifacts: false,
};

const CLASS_DEFAULTS: Record<string, object> = { local: {}, remote: REMOTE_DEFAULTS, virtual: VIRTUAL_DEFAULTS };

/**
 * What a new repository of class `rclass` holds in every field the request leaves out: the
 * values `validateRepoConfig` fills in (the same for every package type). The repository form
 * starts from these (`GET /api/system/repositoryDefaults/{rclass}`).
 */
export function repoDefaults(rclass: string): Record<string, unknown> {
  if (!SUPPORTED_CLASSES.includes(rclass as RepoClass)) throw invalid('rclass', `must be local, remote or virtual, got '${rclass}'`);
  const { password: _password, ...rest } = { ...LOCAL_DEFAULTS, ...CLASS_DEFAULTS[rclass] } as Record<string, unknown>;
  return structuredClone(rest);
}

function invalid(field: string, message: string): ArcaError {
  return new ArcaError('INVALID_CONFIG', `Invalid repository configuration: '${field}' ${message}`, { field });
}

type Checker = (v: unknown) => boolean;
const FIELD_TYPES: Record<string, [string, Checker]> = {
  description: ['a string', (v) => typeof v === 'string'],
  notes: ['a string', (v) => typeof v === 'string'],
  includesPattern: ['a string', (v) => typeof v === 'string'],
  excludesPattern: ['a string', (v) => typeof v === 'string'],
  repoLayoutRef: ['a string', (v) => typeof v === 'string'],
  projectKey: ['a string', (v) => typeof v === 'string'],
  checksumPolicyType: ['client-checksums or server-generated-checksums', (v) => v === 'client-checksums' || v === 'server-generated-checksums'],
  handleReleases: ['a boolean', (v) => typeof v === 'boolean'],
  handleSnapshots: ['a boolean', (v) => typeof v === 'boolean'],
  blackedOut: ['a boolean', (v) => typeof v === 'boolean'],
  archiveBrowsingEnabled: ['a boolean', (v) => typeof v === 'boolean'],
  xrayIndex: ['a boolean', (v) => typeof v === 'boolean'],
  downloadRedirect: ['a boolean', (v) => typeof v === 'boolean'],
  priorityResolution: ['a boolean', (v) => typeof v === 'boolean'],
  suppressPomConsistencyChecks: ['a boolean', (v) => typeof v === 'boolean'],
  maxUniqueSnapshots: ['a non-negative integer', (v) => Number.isInteger(v) && (v as number) >= 0],
  propertySets: ['an array of strings', (v) => Array.isArray(v) && v.every((s) => typeof s === 'string')],
  environments: ['an array of strings', (v) => Array.isArray(v) && v.every((s) => typeof s === 'string')],
  // Remote repositories.
  url: ['an http or https URL', (v) => typeof v === 'string' && /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v)],
  username: ['a string', (v) => typeof v === 'string'],
  password: ['a string', (v) => typeof v === 'string'],
  offline: ['a boolean', (v) => typeof v === 'boolean'],
  hardFail: ['a boolean', (v) => typeof v === 'boolean'],
  storeArtifactsLocally: ['true (a remote repository always keeps what it fetched)', (v) => v === true],
  retrievalCachePeriodSecs: ['a non-negative integer', (v) => Number.isInteger(v) && (v as number) >= 0],
  missedRetrievalCachePeriodSecs: ['a non-negative integer', (v) => Number.isInteger(v) && (v as number) >= 0],
  assumedOfflinePeriodSecs: ['a non-negative integer', (v) => Number.isInteger(v) && (v as number) >= 0],
  socketTimeoutMillis: ['a positive integer', (v) => Number.isInteger(v) && (v as number) > 0],
  // Virtual repositories.
  repositories: ['an array of repository keys', (v) => Array.isArray(v) && v.every((s) => typeof s === 'string')],
  defaultDeploymentRepo: ['a repository key', (v) => typeof v === 'string'],
  // Debian and RPM (any repository may name them): the key pairs that sign its metadata (docs/signing.md).
  primaryKeyPairRef: ['the name of a key pair', (v) => typeof v === 'string'],
  secondaryKeyPairRef: ['the name of a key pair', (v) => typeof v === 'string'],
  // PyPI remotes: the index, when it is not at `url`.
  pyPIRegistryUrl: ['an http or https URL', (v) => typeof v === 'string' && (v === '' || (/^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v)))],
};

/** The fields of a remote repository that hold an upstream URL. */
const URL_FIELDS = ['url', 'pyPIRegistryUrl'];

/**
 * Checks where a remote's URLs point: no credentials in them (they belong in `username` and
 * `password`, which are stored encrypted and never shown), and no host the address policy
 * denies. The policy is applied again to every connection (after DNS resolution and on each
 * redirect), so this check only refuses what is plainly wrong at save time.
 */
function checkUpstreamUrls(config: RepoConfig, policy: AddressPolicy): void {
  for (const field of URL_FIELDS) {
    const value = config[field];
    if (typeof value !== 'string' || value === '') continue;
    const url = new URL(value);
    if (url.username || url.password) {
      throw new ArcaError(
        'INVALID_CONFIG',
        `Invalid repository configuration: '${field}' must not carry credentials (user:password@host); give them in the 'username' and 'password' fields`,
        { field, fields: ['username', 'password'] },
      );
    }
    const why = policy.deniedHost(url.hostname);
    if (why) throw invalid(field, `may not point at ${url.hostname}: ${why}; an administrator can allow it with arca.remote.allowedAddresses`);
  }
}

/** Validates a create (`base` undefined) or a partial update of a repository configuration. */
export function validateRepoConfig(key: string, input: unknown, base?: RepoConfig, policy: AddressPolicy = DEFAULT_ADDRESS_POLICY): RepoConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ArcaError('INVALID_CONFIG', 'Invalid repository configuration: the body must be a JSON object');
  }
  const body = input as Record<string, unknown>;
  if (body.key !== undefined && body.key !== key) throw invalid('key', `'${String(body.key)}' does not match the key in the URL '${key}'`);
  const rclass = (body.rclass ?? base?.rclass) as unknown;
  if (rclass === undefined) throw invalid('rclass', 'is required (local, remote, virtual or federated)');
  if (typeof rclass !== 'string' || !['local', 'remote', 'virtual', 'federated'].includes(rclass)) {
    throw invalid('rclass', `must be local, remote, virtual or federated, got '${String(rclass)}'`);
  }
  if (base && rclass !== base.rclass) throw invalid('rclass', `cannot change from '${base.rclass}' to '${rclass}'`);
  if (!SUPPORTED_CLASSES.includes(rclass as RepoClass)) throw invalid('rclass', `'${rclass}' repositories are not supported by this release`);
  const packageType = String(body.packageType ?? base?.packageType ?? 'generic').toLowerCase();
  if (!(PACKAGE_TYPES as readonly string[]).includes(packageType)) throw invalid('packageType', `'${packageType}' is not a known package type`);
  if (base && packageType !== base.packageType) throw invalid('packageType', `cannot change from '${base.packageType}' to '${packageType}'`);
  for (const [field, [what, ok]] of Object.entries(FIELD_TYPES)) {
    if (body[field] !== undefined && !ok(body[field])) throw invalid(field, `must be ${what}`);
  }
  const config = { ...LOCAL_DEFAULTS, ...CLASS_DEFAULTS[rclass], ...(base ?? {}), ...body, key, rclass: rclass as RepoClass, packageType } as RepoConfig;
  if (rclass === 'remote' && !config.url) throw invalid('url', 'is required for a remote repository');
  if (rclass === 'remote') checkUpstreamUrls(config, policy);
  if (rclass === 'virtual') {
    const members = config.repositories as string[];
    if (members.includes(key)) throw invalid('repositories', `cannot include the virtual repository '${key}' itself`);
    if (new Set(members).size !== members.length) throw invalid('repositories', 'lists a repository twice');
    const target = config.defaultDeploymentRepo as string;
    if (target && !members.includes(target)) throw invalid('defaultDeploymentRepo', `'${target}' is not one of the repositories of '${key}'`);
  }
  return config;
}

export function validateRepoKey(key: string): void {
  if (!REPO_KEY_PATTERN.test(key)) {
    throw invalid('key', 'must start with a letter or digit and hold at most 64 letters, digits, dots, dashes or underscores');
  }
  if (RESERVED_KEYS.has(key.toLowerCase())) throw invalid('key', `'${key}' is reserved`);
}

/** Repository configurations, kept in the database and cached per process. */
/** The repositories holding items (local ones and remote caches) in which `access` may read some. */
export async function repositoriesReadableBy(access: Access, repos: Pick<RepositoryService, 'list'>): Promise<RepoConfig[]> {
  const out: RepoConfig[] = [];
  for (const r of await repos.list()) {
    if (r.rclass !== 'virtual' && (await access.canReadAny(r))) out.push(r);
  }
  return out;
}

/** The trash can is built in: configured by `trashcanConfig`, emptied with `POST /api/trash/empty`. */
function refuseTrash(key: string): void {
  if (key === TRASH_REPO_KEY) throw new ArcaError('BAD_REQUEST', `'${key}' is the built-in trash can: configure it with trashcanConfig, empty it with POST /api/trash/empty`);
}

export class RepositoryService {
  private cache: Map<string, RepoConfig> | undefined;
  private loading: Promise<Map<string, RepoConfig>> | undefined;
  /** Where remote repositories may connect (system.yaml arca.remote.*Addresses). */
  readonly addressPolicy: AddressPolicy;
  /** Encrypts the passwords of remote repositories before they are stored. */
  private readonly masterKey: Buffer;

  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    options: { masterKey: Buffer; addressPolicy?: AddressPolicy },
  ) {
    this.masterKey = options.masterKey;
    this.addressPolicy = options.addressPolicy ?? DEFAULT_ADDRESS_POLICY;
    versions.on('repositories', () => {
      this.cache = undefined;
    });
  }

  /** Whether a signing key pair exists (set by the composition root once the key store is built). */
  private keyPairExists: ((name: string) => Promise<boolean>) | undefined;

  /** Makes create and update refuse a `primaryKeyPairRef`/`secondaryKeyPairRef` naming no key pair (docs/signing.md). */
  checkKeyPairsWith(exists: (name: string) => Promise<boolean>): void {
    this.keyPairExists = exists;
  }

  /** Checks the key pair names a request gives (names kept from before are not checked again). */
  private async checkKeyPairs(input: unknown): Promise<void> {
    if (!this.keyPairExists) return;
    for (const field of ['primaryKeyPairRef', 'secondaryKeyPairRef']) {
      const name = (input as Record<string, unknown>)[field];
      if (typeof name === 'string' && name !== '' && !(await this.keyPairExists(name))) throw invalid(field, `names key pair '${name}', which does not exist`);
    }
  }

  private async all(): Promise<Map<string, RepoConfig>> {
    if (this.cache) return this.cache;
    this.loading ??= (async () => {
      const rows = await this.database.db.selectFrom('repositories').selectAll().orderBy('position').orderBy('repo_key').execute();
      const map = new Map<string, RepoConfig>();
      for (const r of rows) map.set(r.repo_key, JSON.parse(r.config) as RepoConfig);
      this.cache = map;
      return map;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Encrypts a remote's password (kept as is when already encrypted). */
  private sealed(config: RepoConfig): RepoConfig {
    const pw = config.password;
    if (typeof pw === 'string' && pw !== '' && !isEncrypted(pw)) {
      return { ...config, password: encryptSecret(this.masterKey, pw) };
    }
    return config;
  }

  /**
   * Checks a virtual repository's members against the other repositories: each exists, has
   * the same package type, and no chain of virtual repositories leads back to this one;
   * `defaultDeploymentRepo` is a local repository.
   */
  private async checkMembers(config: RepoConfig): Promise<void> {
    if (config.rclass !== 'virtual') return;
    const all = await this.all();
    for (const k of config.repositories as string[]) {
      const m = all.get(k);
      if (!m) throw invalid('repositories', `'${k}' does not exist`);
      if (m.packageType !== config.packageType) {
        throw invalid('repositories', `'${k}' is a ${m.packageType} repository; members of '${config.key}' must be ${config.packageType} repositories`);
      }
      if (m.rclass === 'federated') throw invalid('repositories', `'${k}' is a federated repository`);
    }
    const target = config.defaultDeploymentRepo as string;
    if (target && all.get(target)?.rclass !== 'local') throw invalid('defaultDeploymentRepo', `'${target}' must be a local repository`);
    const membersOf = (k: string): string[] => {
      const r = k === config.key ? config : all.get(k);
      return r?.rclass === 'virtual' && Array.isArray(r.repositories) ? (r.repositories as string[]) : [];
    };
    const path: string[] = [];
    const visit = (k: string): void => {
      if (path.includes(k)) throw invalid('repositories', `would make a cycle: ${[...path, k].join(' -> ')}`);
      path.push(k);
      for (const m of membersOf(k)) visit(m);
      path.pop();
    };
    visit(config.key);
  }

  async list(): Promise<RepoConfig[]> {
    return [...(await this.all()).values()];
  }

  /** The configuration of `key` when this process has the repositories loaded and current; undefined otherwise (then ask `get`). */
  cached(key: string): RepoConfig | undefined {
    return this.cache?.get(key);
  }

  /** A repository by key; also the trash can (`auto-trashcan`), which `list` leaves out. */
  async get(key: string): Promise<RepoConfig | undefined> {
    if (key === TRASH_REPO_KEY) return TRASH_REPO;
    return (await this.all()).get(key);
  }

  async require(key: string): Promise<RepoConfig> {
    const repo = await this.get(key);
    if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${key}' not found`);
    return repo;
  }

  async create(key: string, input: unknown, position?: number): Promise<RepoConfig> {
    validateRepoKey(key);
    const config = this.sealed(validateRepoConfig(key, input, undefined, this.addressPolicy));
    await this.checkMembers(config);
    await this.checkKeyPairs(input);
    const now = this.clock.now();
    await this.versions.change('repositories', async (trx) => {
      const existing = await trx.selectFrom('repositories').select('repo_key').where('repo_key', '=', key).executeTakeFirst();
      if (existing) throw new ArcaError('ALREADY_EXISTS', `Repository '${key}' already exists`);
      const max = await trx.selectFrom('repositories').select((eb) => eb.fn.max<number>('position').as('m')).executeTakeFirst();
      await trx
        .insertInto('repositories')
        .values({
          repo_key: key,
          rclass: config.rclass,
          package_type: config.packageType,
          position: position ?? Number(max?.m ?? 0) + 1,
          config: JSON.stringify(config),
          created: now,
          modified: now,
        })
        .execute();
    });
    this.cache = undefined;
    return config;
  }

  async update(key: string, input: unknown): Promise<RepoConfig> {
    refuseTrash(key);
    const base = await this.require(key);
    const config = this.sealed(validateRepoConfig(key, input, base, this.addressPolicy));
    await this.checkMembers(config);
    await this.checkKeyPairs(input);
    await this.versions.change('repositories', (trx) =>
      trx.updateTable('repositories').set({ config: JSON.stringify(config), modified: this.clock.now() }).where('repo_key', '=', key).execute(),
    );
    this.cache = undefined;
    return config;
  }

  /** Deletes the repository and every item in it; the binaries are left to garbage collection. */
  async delete(key: string): Promise<number> {
    refuseTrash(key);
    await this.require(key);
    // The items go first in short batches; what a deploy adds meanwhile goes with the repository.
    const batched = await deleteTreeInBatches(this.database.db, key, '');
    const removed = await this.versions.change('repositories', async (trx) => {
      const rows = await deleteTree(trx, key, '');
      await dropCacheRecords(trx, key);
      await trx.deleteFrom('replications').where('repo_key', '=', key).execute();
      await trx.deleteFrom('repositories').where('repo_key', '=', key).execute();
      return batched + rows.length;
    });
    this.cache = undefined;
    return removed;
  }
}
