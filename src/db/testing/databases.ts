import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { parseMysqlUrl, parsePostgresUrl, type DatabaseConfig } from '../../config/db-config.js';
import { openDatabase, type Database, type DialectName } from '../database.js';
import { migrate } from '../migrate.js';

declare module 'vitest' {
  /** What the test run's global setup (test/helpers/global-setup.ts) provides to every suite. */
  export interface ProvidedContext {
    pgUrl: string;
    /** '' when no MySQL/MariaDB server is reachable (the MySQL suites are then left out). */
    mysqlUrl: string;
  }
}

/** Every dialect a suite runs on; MySQL/MariaDB only when global setup found a server. */
export const DIALECTS: DialectName[] = inject('mysqlUrl') ? ['sqlite', 'postgresql', 'mysql'] : ['sqlite', 'postgresql'];

export interface TestDatabase {
  config: DatabaseConfig;
  database: Database;
  /** URL of the fresh database (PostgreSQL) or the SQLite file. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database of the given dialect (a new PostgreSQL database per call). */
export async function freshDatabaseConfig(dialect: DialectName): Promise<{ config: DatabaseConfig; url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'arca-test-sqlite-'));
    const file = join(dir, 'arca.db');
    return {
      config: { type: 'sqlite', source: 'test', sqliteFile: file, poolMaxActive: 1, poolMaxIdle: 1, displayUrl: file },
      url: `jdbc:sqlite:${file}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (dialect === 'mysql') return freshMysql();
  const adminUrl = inject('pgUrl');
  const name = `arca_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    config: { type: 'postgresql', source: 'test', pg: parsePostgresUrl(url), poolMaxActive: 10, poolMaxIdle: 10, displayUrl: url },
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A fresh migrated database of the given dialect. */
export async function openTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const fresh = await freshDatabaseConfig(dialect);
  const database = await openDatabase(fresh.config);
  await migrate(database);
  return {
    ...fresh,
    database,
    drop: async () => {
      await database.close().catch(() => undefined);
      await fresh.drop();
    },
  };
}

async function freshMysql(): Promise<{ config: DatabaseConfig; url: string; drop(): Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const adminUrl = inject('mysqlUrl').replace(/^jdbc:/, '').replace(/^mariadb:/, 'mysql:');
  const name = `arca_test_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: adminUrl });
  await admin.query(`create database ${name} character set utf8mb4 collate utf8mb4_bin`);
  await admin.end();
  const url = adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    config: { type: 'mysql', source: 'test', mysql: parseMysqlUrl(url), poolMaxActive: 10, poolMaxIdle: 10, displayUrl: url },
    url,
    drop: async () => {
      const c = await mysql.createConnection({ uri: adminUrl });
      await c.query(`drop database if exists ${name}`);
      await c.end();
    },
  };
}
