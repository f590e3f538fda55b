import { parseCron } from '../../cluster/tasks/cron.js';
import { ArcaError } from '../../core/errors.js';
import type { AddressPolicy } from '../remote/address-policy.js';

/**
 * The replication configuration in the seed's JSON shape (REST-API.md §12, the JFrog client's
 * `replicationBody`): validation and defaults, no storage. A push replicates a local repository
 * to a target URL (several targets: multi-push); a pull fills a remote repository from its own
 * upstream (the remote's `url`), so it names no URL of its own.
 */
export interface PushReplication {
  repoKey: string;
  url: string;
  username: string;
  /** Encrypted with the master key when stored; '' when none. Never shown. */
  password: string;
  enabled: boolean;
  cronExp: string;
  enableEventReplication: boolean;
  syncDeletes: boolean;
  syncProperties: boolean;
  syncStatistics: boolean;
  /** Deprecated by the seed in favour of includePathPrefixPattern; kept as given. */
  pathPrefix: string;
  includePathPrefixPattern: string;
  excludePathPrefixPattern: string;
  socketTimeoutMillis: number;
  checkBinaryExistenceInFilestore: boolean;
  /** The seed's proxy reference; kept and shown as `proxyRef`, not used (no proxies yet). */
  proxy: string;
}

export interface PullReplication {
  repoKey: string;
  enabled: boolean;
  cronExp: string;
  enableEventReplication: boolean;
  syncDeletes: boolean;
  syncProperties: boolean;
  pathPrefix: string;
}

export const PUSH_DEFAULTS: Omit<PushReplication, 'repoKey' | 'url' | 'cronExp'> = {
  username: '',
  password: '',
  enabled: true,
  enableEventReplication: false,
  syncDeletes: false,
  syncProperties: true,
  syncStatistics: false,
  pathPrefix: '',
  includePathPrefixPattern: '',
  excludePathPrefixPattern: '',
  socketTimeoutMillis: 15000,
  checkBinaryExistenceInFilestore: false,
  proxy: '',
};

export const PULL_DEFAULTS: Omit<PullReplication, 'repoKey' | 'cronExp'> = {
  enabled: true,
  enableEventReplication: false,
  syncDeletes: false,
  syncProperties: true,
  pathPrefix: '',
};

/** Most targets one local repository may push to (a bound on the work one run can cause). */
export const MAX_PUSH_TARGETS = 32;

export function invalidReplication(field: string, message: string): ArcaError {
  return new ArcaError('INVALID_CONFIG', `Invalid replication configuration: '${field}' ${message}`, { field });
}

type Check = [string, (v: unknown) => boolean];
const str = (max: number): Check => [`a string of at most ${max} characters`, (v) => typeof v === 'string' && v.length <= max];
const bool: Check = ['a boolean', (v) => typeof v === 'boolean'];

const PUSH_FIELDS: Record<string, Check> = {
  repoKey: str(64),
  url: str(2048),
  username: str(256),
  password: str(1024),
  enabled: bool,
  cronExp: str(256),
  enableEventReplication: bool,
  syncDeletes: bool,
  syncProperties: bool,
  syncStatistics: bool,
  pathPrefix: str(1024),
  includePathPrefixPattern: str(1024),
  excludePathPrefixPattern: str(1024),
  socketTimeoutMillis: ['an integer from 1 to 3600000', (v) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 3_600_000],
  checkBinaryExistenceInFilestore: bool,
  proxy: str(256),
};

const PULL_FIELDS: Record<string, Check> = {
  repoKey: str(64),
  enabled: bool,
  cronExp: str(256),
  enableEventReplication: bool,
  syncDeletes: bool,
  syncProperties: bool,
  pathPrefix: str(1024),
};

/** What the seed's clients send with every body, empty, whatever the kind (JFrog client `replicationBody`). */
const PULL_IGNORED_WHEN_EMPTY = ['url', 'username', 'password', 'proxy', 'includePathPrefixPattern', 'excludePathPrefixPattern'];

export function asObject(input: unknown, what = 'the body'): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ArcaError('INVALID_CONFIG', `Invalid replication configuration: ${what} must be a JSON object`);
  }
  return input as Record<string, unknown>;
}

function checkFields(body: Record<string, unknown>, fields: Record<string, Check>): void {
  for (const [field, value] of Object.entries(body)) {
    const check = fields[field];
    if (!check) continue;
    if (value !== undefined && value !== null && !check[1](value)) throw invalidReplication(field, `must be ${check[0]}`);
  }
}

function checkCron(cronExp: unknown): string {
  if (typeof cronExp !== 'string' || cronExp.trim() === '') throw invalidReplication('cronExp', 'is required (a cron expression such as 0 0 12 * * ?)');
  try {
    parseCron(cronExp.trim());
  } catch (err) {
    throw invalidReplication('cronExp', `is not a valid cron expression: ${(err as Error).message}`);
  }
  return cronExp.trim();
}

function checkRepoKey(repoKey: string, body: Record<string, unknown>): void {
  if (typeof body.repoKey === 'string' && body.repoKey !== '' && body.repoKey !== repoKey) {
    throw invalidReplication('repoKey', `'${body.repoKey}' does not match the repository in the URL '${repoKey}'`);
  }
}

/** Drops the null fields (absent for the merge), so `{"cronExp": null}` keeps what is stored. */
function present(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== null));
}

/** An http(s) URL without credentials, to a host the address policy allows. */
export function checkTargetUrl(url: unknown, policy: AddressPolicy): string {
  if (typeof url !== 'string' || url === '') throw invalidReplication('url', 'is required for a push replication (the target repository URL)');
  if (!/^https?:\/\/[^\s/]+/i.test(url) || !URL.canParse(url)) throw invalidReplication('url', 'must be an http or https URL');
  const parsed = new URL(url);
  if (parsed.username || parsed.password) throw invalidReplication('url', "must not carry credentials (user:password@host); give them in 'username' and 'password'");
  const why = policy.deniedHost(parsed.hostname);
  if (why) throw invalidReplication('url', `may not point at ${parsed.hostname}: ${why}; an administrator can allow it with arca.remote.allowedAddresses`);
  return url;
}

/**
 * A push target from a body, over `base` (the stored target for an update, or the shared
 * fields of a multi-push). The password is returned as given (the caller encrypts it); an
 * absent or empty password keeps `base.password`.
 */
export function validatePush(repoKey: string, input: unknown, policy: AddressPolicy, base?: Partial<PushReplication>): PushReplication {
  const body = asObject(input);
  checkRepoKey(repoKey, body);
  checkFields(body, PUSH_FIELDS);
  const given = present(body);
  const merged = { ...PUSH_DEFAULTS, ...(base ?? {}), ...given, repoKey } as PushReplication;
  if (given.password === '' || given.password === undefined) merged.password = base?.password ?? '';
  merged.url = checkTargetUrl(merged.url, policy);
  merged.cronExp = checkCron(merged.cronExp);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(PUSH_FIELDS)) out[k] = (merged as unknown as Record<string, unknown>)[k];
  return out as unknown as PushReplication;
}

/** The pull of a remote repository from a body, over the stored one for an update. */
export function validatePull(repoKey: string, input: unknown, base?: PullReplication): PullReplication {
  const body = asObject(input);
  checkRepoKey(repoKey, body);
  for (const field of PULL_IGNORED_WHEN_EMPTY) {
    const v = body[field];
    if (v !== undefined && v !== null && v !== '') {
      throw invalidReplication(field, `is not taken by a pull replication of the remote repository '${repoKey}' (it pulls from the remote's own url)`);
    }
  }
  checkFields(body, PULL_FIELDS);
  const merged = { ...PULL_DEFAULTS, ...(base ?? {}), ...present(body), repoKey } as PullReplication;
  merged.cronExp = checkCron(merged.cronExp);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(PULL_FIELDS)) out[k] = (merged as unknown as Record<string, unknown>)[k];
  return out as unknown as PullReplication;
}

/** A push target as the API shows it: no password (write-only, as a remote's), the proxy as `proxyRef`. */
export function shownPush(p: PushReplication): Record<string, unknown> {
  const { password: _password, proxy, ...rest } = p;
  return { ...rest, proxyRef: proxy };
}
