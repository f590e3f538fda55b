import { ConfigError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { orIgnore } from '../db/dialect.js';

/** The `system_config` row holding the cluster's master-key fingerprint (the seed's `kid`). */
export const MASTER_KEY_ROW = 'cluster.masterKey';

export interface RecordedKey {
  kid: string;
  setByNodeId: string;
  setAt: number;
}

export async function recordedMasterKey(database: Database): Promise<RecordedKey | undefined> {
  const row = await database.db.selectFrom('system_config').select('config_value').where('config_key', '=', MASTER_KEY_ROW).executeTakeFirst();
  return row ? (JSON.parse(row.config_value) as RecordedKey) : undefined;
}

/**
 * The first node records its master key's fingerprint (never the key); every later node must
 * present a key with the same fingerprint, else it refuses to start and says which file to copy.
 */
export async function checkMasterKey(database: Database, opts: { kid: string; nodeId: string; keyFile: string; clock: Clock }): Promise<RecordedKey> {
  const mine: RecordedKey = { kid: opts.kid, setByNodeId: opts.nodeId, setAt: opts.clock.now() };
  await orIgnore(
    database.db,
    database.db.insertInto('system_config').values({ config_key: MASTER_KEY_ROW, config_value: JSON.stringify(mine), modified: mine.setAt }),
    'config_key',
  ).execute();
  const recorded = (await recordedMasterKey(database))!;
  if (recorded.kid !== opts.kid) {
    throw new ConfigError(
      `The master key in ${opts.keyFile} (fingerprint ${opts.kid}) differs from the one this cluster's database was set up with ` +
        `(fingerprint ${recorded.kid}, recorded by node '${recorded.setByNodeId}'): copy etc/security/master.key from an existing node`,
    );
  }
  return recorded;
}
