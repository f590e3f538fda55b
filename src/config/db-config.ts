import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { DecryptionError, isEncrypted, revealSecret } from '../core/secrets.js';
import { ConfigError } from '../core/errors.js';
import { parseProperties } from './properties.js';
import type { SystemConfig } from './system-yaml.js';

export interface PgConnection {
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  ssl?: boolean;
}

export interface MysqlConnection {
  host: string;
  port: number;
  database: string;
  user?: string;
  password?: string;
  ssl?: boolean;
}

export interface DatabaseConfig {
  type: 'sqlite' | 'postgresql' | 'mysql';
  /** Where the settings came from, for the start-up log. */
  source: string;
  sqliteFile?: string;
  pg?: PgConnection;
  mysql?: MysqlConnection;
  /** `pool.max.active` (default 98, as the seed's product). */
  poolMaxActive: number;
  poolMaxIdle: number;
  /** The URL without credentials, for logs. */
  displayUrl: string;
}

export const DEFAULT_POOL_MAX = 98;

export const DEFAULT_DB_PROPERTIES = `## Arca database settings (the seed's db.properties keys).
## The embedded default is SQLite in data/arca.db. For PostgreSQL:
##   type=postgresql
##   url=jdbc:postgresql://localhost:5432/arca
##   username=arca
##   password=...          (plain, or the output of 'arca encrypt')
##   pool.max.active=98
type=sqlite
url=jdbc:sqlite:data/arca.db
`;

function normalizeType(t: string, file: string): DatabaseConfig['type'] {
  const v = t.trim().toLowerCase();
  if (v === 'sqlite' || v === 'derby') return 'sqlite';
  if (v === 'postgresql' || v === 'postgres') return 'postgresql';
  if (v === 'mysql' || v === 'mariadb') return 'mysql';
  throw new ConfigError(`${file}: unknown database type '${t}' (type must be sqlite, postgresql, mysql or mariadb)`);
}

/** Parses `jdbc:mysql://host:port/db?user=..`, `jdbc:mariadb://…`, `mysql://user:pw@host/db` or `mariadb://…`. */
export function parseMysqlUrl(url: string, username?: string, password?: string): MysqlConnection {
  const u = url.trim().replace(/^jdbc:/, '');
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new ConfigError(`Malformed MySQL/MariaDB URL '${url}'`);
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') throw new ConfigError(`Not a MySQL/MariaDB URL: '${url}'`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError(`The MySQL/MariaDB URL '${url}' names no database`);
  const ssl = parsed.searchParams.get('useSSL') ?? parsed.searchParams.get('sslMode') ?? parsed.searchParams.get('ssl');
  return {
    host: decodeURIComponent(parsed.hostname) || 'localhost',
    port: parsed.port ? Number(parsed.port) : 3306,
    database,
    user: username ?? (parsed.username ? decodeURIComponent(parsed.username) : parsed.searchParams.get('user') ?? undefined),
    password: password ?? (parsed.password ? decodeURIComponent(parsed.password) : parsed.searchParams.get('password') ?? undefined),
    ...(ssl === 'true' || ssl === 'REQUIRED' || ssl === 'required' ? { ssl: true } : {}),
  };
}

/** Parses `jdbc:postgresql://host:port/db?user=..` or `postgres://user:pw@host:port/db`. */
export function parsePostgresUrl(url: string, username?: string, password?: string): PgConnection {
  let u = url.trim();
  if (u.startsWith('jdbc:')) u = u.slice(5);
  if (u.startsWith('postgresql:') && !u.startsWith('postgresql://')) throw new ConfigError(`Unsupported PostgreSQL URL '${url}'`);
  let parsed: URL;
  try {
    parsed = new URL(u.replace(/^postgresql:/, 'postgres:'));
  } catch {
    throw new ConfigError(`Malformed PostgreSQL URL '${url}'`);
  }
  if (parsed.protocol !== 'postgres:') throw new ConfigError(`Not a PostgreSQL URL: '${url}'`);
  const conn: PgConnection = {
    host: decodeURIComponent(parsed.hostname) || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    user: username ?? (parsed.username ? decodeURIComponent(parsed.username) : parsed.searchParams.get('user') ?? undefined),
    password: password ?? (parsed.password ? decodeURIComponent(parsed.password) : parsed.searchParams.get('password') ?? undefined),
  };
  const sslmode = parsed.searchParams.get('sslmode') ?? parsed.searchParams.get('ssl');
  if (sslmode === 'require' || sslmode === 'true') conn.ssl = true;
  return conn;
}

function displayPg(c: PgConnection): string {
  return `postgresql://${c.user ? `${c.user}@` : ''}${c.host}:${c.port}/${c.database}`;
}

/**
 * Resolves the database settings: `shared.database.*` of system.yaml (and its environment
 * overrides) when it names a type or URL, else `etc/db.properties`, else embedded SQLite.
 */
/** `masterKey` is undefined while an HA node has none yet (an encrypted password then cannot be read). */
export function resolveDatabaseConfig(opts: { home: string; etcDir: string; system: SystemConfig; masterKey: Buffer | undefined }): DatabaseConfig {
  const file = join(opts.etcDir, 'db.properties');
  const props = existsSync(file) ? parseProperties(readFileSync(file, 'utf8')) : new Map<string, string>();
  const sysType = opts.system.string('shared.database.type');
  const sysUrl = opts.system.string('shared.database.url');
  const fromYaml = sysType !== undefined || sysUrl !== undefined;
  const source = fromYaml ? 'system.yaml shared.database' : existsSync(file) ? file : 'default';
  const get = (yamlKey: string, propKey: string) =>
    fromYaml ? opts.system.string(`shared.database.${yamlKey}`) : props.get(propKey);

  const url = get('url', 'url');
  let typeRaw = get('type', 'type');
  if (!typeRaw && url) typeRaw = /postgres/i.test(url) ? 'postgresql' : /mysql|mariadb/i.test(url) ? 'mysql' : 'sqlite';
  const type = normalizeType(typeRaw ?? 'sqlite', source);

  const reveal = (v: string | undefined, key: string) => {
    if (v === undefined) return undefined;
    try {
      if (!opts.masterKey) {
        if (isEncrypted(v)) throw new ConfigError(`${source}: ${key} is encrypted but etc/security/master.key is missing: copy it from an existing node`);
        return v;
      }
      return revealSecret(opts.masterKey, v);
    } catch (err) {
      if (err instanceof DecryptionError) throw new ConfigError(`${source}: cannot decrypt ${key}: ${err.message}`);
      throw err;
    }
  };
  const poolRaw = opts.system.string('shared.database.maxOpenConnections') ?? props.get('pool.max.active');
  const poolMaxActive = poolRaw === undefined ? DEFAULT_POOL_MAX : Number(poolRaw);
  if (!Number.isInteger(poolMaxActive) || poolMaxActive < 1) throw new ConfigError(`${source}: pool.max.active must be a positive integer`);
  const idleRaw = props.get('pool.max.idle');
  const poolMaxIdle = idleRaw === undefined ? DEFAULT_POOL_MAX : Number(idleRaw);

  if (type === 'sqlite') {
    let path = (url ?? 'jdbc:sqlite:data/arca.db').replace(/^jdbc:sqlite:/, '').replace(/^sqlite:/, '');
    if (!isAbsolute(path)) path = join(opts.home, path);
    return { type, source, sqliteFile: path, poolMaxActive: 1, poolMaxIdle: 1, displayUrl: `sqlite:${path}` };
  }
  if (!url) throw new ConfigError(`${source}: url is required for type=${type}`);
  const username = get('username', 'username');
  const password = reveal(get('password', 'password'), 'password');
  if (type === 'mysql') {
    const mysql = parseMysqlUrl(url, username, password);
    const displayUrl = `mysql://${mysql.user ? `${mysql.user}@` : ''}${mysql.host}:${mysql.port}/${mysql.database}`;
    return { type, source, mysql, poolMaxActive, poolMaxIdle, displayUrl };
  }
  const pg = parsePostgresUrl(url, username, password);
  return { type, source, pg, poolMaxActive, poolMaxIdle, displayUrl: displayPg(pg) };
}
