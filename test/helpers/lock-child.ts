// A child process for the cross-process lock tests: opens its own lock manager and main
// database from the config in ARCA_LOCK_TEST (JSON), then, once the parent says go, races
// for a free lock and increments a counter under another lock `rounds` times.
import { openLockManager } from '../../src/cluster/locks/open-lock-manager.js';
import type { DatabaseConfig } from '../../src/config/db-config.js';
import { systemClock } from '../../src/core/clock.js';
import { openDatabase } from '../../src/db/database.js';
import { orUpdate } from '../../src/db/dialect.js';

const { config, rounds, owner } = JSON.parse(process.env.ARCA_LOCK_TEST!) as {
  config: DatabaseConfig;
  rounds: number;
  owner: string;
};

const locks = await openLockManager(config, systemClock, { poolMaxActive: 2 });
const database = await openDatabase({ ...config, poolMaxActive: 2, poolMaxIdle: 2 });
// Barriers: say ready once connected; race when the parent writes a line to stdin, count at
// the next line.
await locks.inspect('warm-up');
await database.ping();
const nextLine = () => new Promise((r) => process.stdin.once('data', r));
process.stdout.write('ready\n');
await nextLine();
const lease = await locks.tryAcquire('race', owner, 60_000);
process.stdout.write(JSON.stringify({ owner, token: lease?.token ?? null }) + '\n');
// Counting starts once every process has raced.
await nextLine();
process.stdin.pause();
if (lease) await locks.release(lease);
for (let i = 0; i < rounds; i++) {
  const held = await locks.acquire('counter', owner, 60_000, { timeoutMs: 60_000, pollMs: 5 });
  // A read-modify-write that is only correct under mutual exclusion.
  const row = await database.db.selectFrom('system_config').select('config_value').where('config_key', '=', 'counter').executeTakeFirst();
  const next = String(Number(row?.config_value ?? '0') + 1);
  await database.db.transaction().execute(async (trx) => {
    await locks.assertHeld(trx, held);
    await orUpdate(trx, trx.insertInto('system_config').values({ config_key: 'counter', config_value: next, modified: 0 }), 'config_key', {
      config_value: next,
    }).execute();
  });
  await locks.release(held);
}
process.stdout.write('done\n');
await locks.close();
await database.close();
// stdin (a pipe the parent keeps open) must not hold the process.
process.exit(0);
