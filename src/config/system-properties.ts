import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { parseProperties } from './properties.js';

/**
 * The seed's `artifactory.system.properties`, kept under the seed's name in `etc/` so an
 * operator's existing file can be copied over. The primary's copy is mirrored to every node
 * at start (see cluster/config-files.ts); changes take effect at restart.
 */
export const SYSTEM_PROPERTIES_FILE = 'artifactory.system.properties';

export function systemPropertiesPath(etcDir: string): string {
  return join(etcDir, SYSTEM_PROPERTIES_FILE);
}

export type SessionProviderType = 'db' | 'distributed' | 'jvm';

export interface SystemPropertyKey {
  key: string;
  default: string | undefined;
  /** The seed key it mirrors, when there is one. */
  mirrors?: string;
  description: string;
}

/** Every key of the file Arca reads (docs/configuration.md lists the same). */
export const SYSTEM_PROPERTY_KEYS: SystemPropertyKey[] = [
  {
    key: 'artifactory.map.provider.type',
    default: 'db',
    mirrors: 'artifactory.map.provider.type',
    description: 'Where UI login sessions live: db (shared database), distributed (Redis), jvm (one process; needs sticky sessions).',
  },
  {
    key: 'artifactory.db.session.cleanup.cron',
    default: undefined,
    mirrors: 'artifactory.db.session.cleanup.cron',
    description: 'Quartz cron of the expired-session cleanup (db sessions); the default runs at a random minute of each hour.',
  },
  {
    key: 'artifactory.ui.session.timeout.minutes',
    default: '30',
    mirrors: 'artifactory.ui.session.timeout.minutes',
    description: 'Idle timeout of a UI session; each request through it starts the timeout again.',
  },
  {
    key: 'artifactory.search.userQueryLimit',
    default: '1000',
    mirrors: 'artifactory.search.userQueryLimit',
    description: "The most results one AQL query returns to a caller who is not an administrator (the answer's range says when it was cut).",
  },
  { key: 'arca.session.redis.url', default: 'redis://127.0.0.1:6379', description: 'Redis server of distributed sessions (redis:// or rediss://).' },
  { key: 'arca.session.redis.keyPrefix', default: 'arca:session:', description: 'Prefix of the session keys in Redis (one per cluster sharing a server).' },
];

/** The file written at first start: the seed's installer also fixes a random minute here. */
export function defaultSystemProperties(minute = randomInt(60)): string {
  return `## Arca system properties (the seed's artifactory.system.properties).
## In a cluster the primary's copy is stored in the database and mirrored to every node at
## start, whatever the files' timestamps: edit it on the primary and restart the cluster.
## See docs/configuration.md for every key.

## Where UI sessions live: db (default), distributed (Redis) or jvm (per process; needs
## sticky sessions on the load balancer).
artifactory.map.provider.type=db

## Expired db sessions are removed at this minute of each hour (Quartz cron, chosen at install).
artifactory.db.session.cleanup.cron=0 ${minute} * * * ?

## Idle timeout of a UI session.
artifactory.ui.session.timeout.minutes=30

## The most AQL results a caller who is not an administrator gets from one query.
## artifactory.search.userQueryLimit=1000

## Redis for artifactory.map.provider.type=distributed:
## arca.session.redis.url=redis://127.0.0.1:6379
## arca.session.redis.keyPrefix=arca:session:
`;
}

/** The parsed file with the known keys validated. */
export class SystemProperties {
  readonly sessionProvider: SessionProviderType;
  readonly sessionTimeoutMs: number;
  readonly userQueryLimit: number;

  constructor(
    private readonly values: Map<string, string>,
    readonly source: string,
  ) {
    const type = (this.get('artifactory.map.provider.type') ?? 'db').trim().toLowerCase();
    if (type !== 'db' && type !== 'distributed' && type !== 'jvm') {
      throw new ConfigError(`${source}: artifactory.map.provider.type must be db, distributed or jvm, got '${type}'`);
    }
    this.sessionProvider = type;
    const minutes = Number(this.get('artifactory.ui.session.timeout.minutes') ?? '30');
    if (!Number.isFinite(minutes) || minutes <= 0) {
      throw new ConfigError(`${source}: artifactory.ui.session.timeout.minutes must be a positive number of minutes`);
    }
    this.sessionTimeoutMs = Math.round(minutes * 60_000);
    const limit = Number(this.get('artifactory.search.userQueryLimit'));
    if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`${source}: artifactory.search.userQueryLimit must be a positive whole number`);
    this.userQueryLimit = limit;
  }

  static parse(text: string, source: string): SystemProperties {
    return new SystemProperties(parseProperties(text), source);
  }

  /** Reads the file; a missing file gives every default. */
  static load(file: string): SystemProperties {
    return SystemProperties.parse(existsSync(file) ? readFileSync(file, 'utf8') : '', file);
  }

  /** The value in the file, else the documented default. */
  get(key: string): string | undefined {
    const v = this.values.get(key);
    if (v !== undefined && v.trim() !== '') return v.trim();
    return SYSTEM_PROPERTY_KEYS.find((k) => k.key === key)?.default;
  }

  /** The cleanup cron given in the file, if any (else the cluster picks a random minute). */
  get sessionCleanupCron(): string | undefined {
    return this.get('artifactory.db.session.cleanup.cron');
  }
}
