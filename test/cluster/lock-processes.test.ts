import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { REPO_ROOT } from '../helpers/node-process.js';

const CHILD = join(REPO_ROOT, 'test', 'helpers', 'lock-child.ts');

/**
 * Starts the children and releases them together at each barrier: once all are connected they
 * race; once all have raced they count. Resolves with each child's race result.
 */
function runChildren(envs: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const children = envs.map((env) =>
    spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ARCA_LOCK_TEST: JSON.stringify(env) }, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const seen = [0, 0];
  const barrier = (stage: number) => {
    if (++seen[stage] === children.length) for (const c of children) c.stdin!.write('go\n');
  };
  return Promise.all(
    children.map(
      (child) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          let buffered = '';
          let err = '';
          let raced: Record<string, unknown> | undefined;
          child.stdout!.on('data', (d) => {
            buffered += d;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line === 'ready') barrier(0);
              else if (line.startsWith('{')) {
                raced = JSON.parse(line);
                barrier(1);
              }
            }
          });
          child.stderr!.on('data', (d) => (err += d));
          child.once('exit', (code) => {
            if (code !== 0 || !raced) reject(new Error(`lock child exited with ${code}: ${err}`));
            else resolve(raced);
          });
        }),
    ),
  );
}

describe.each(DIALECTS)('cluster locks across real processes on %s', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(dialect);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('of five processes racing for a free lock exactly one wins, and counting under a lock they lose no update', async () => {
    const rounds = 12;
    const results = await runChildren([0, 1, 2, 3, 4].map((i) => ({ config: t.config, rounds, owner: `proc-${i}` })));
    const winners = results.filter((r) => r.token !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0].token).toBe(1);
    const row = await t.database.db.selectFrom('system_config').select('config_value').where('config_key', '=', 'counter').executeTakeFirst();
    expect(Number(row?.config_value)).toBe(5 * rounds);
    const lock = await t.database.db.selectFrom('cluster_locks').selectAll().where('lock_name', '=', 'counter').executeTakeFirstOrThrow();
    expect(Number(lock.token)).toBe(5 * rounds);
    expect(lock.owner).toBeNull();
  });
});
