import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../../db/conflicts.js';
import type { Database } from '../../db/database.js';
import { CLUSTER_LOCAL_PREFIX } from '../backup/backup-format.js';

/**
 * The site id of this cluster: one per shared database, made on first use and kept in
 * `system_config` under a cluster-local key (never exported by a backup, so a restored copy
 * at another site is not mistaken for its source). Replication sends it as the origin of a
 * change (`X-Arca-Replication-Origin`) and answers it as `X-Arca-Site-Id`; a site never
 * applies, nor sends back, a change that came from itself (docs/replication.md, loops).
 */
export const SITE_ID_KEY = `${CLUSTER_LOCAL_PREFIX}replication.siteId`;

/** What a site id looks like on the wire: 1–64 letters, digits, dots, dashes, underscores. */
export const SITE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export async function loadSiteId(database: Database, now = Date.now()): Promise<string> {
  const read = async () => {
    const row = await database.db.selectFrom('system_config').select('config_value').where('config_key', '=', SITE_ID_KEY).executeTakeFirst();
    return row ? (JSON.parse(row.config_value) as string) : undefined;
  };
  const found = await read();
  if (found) return found;
  try {
    await database.db.insertInto('system_config').values({ config_key: SITE_ID_KEY, config_value: JSON.stringify(randomUUID()), modified: now }).execute();
  } catch (err) {
    // Another node of the site made it first: theirs is the site's.
    if (!isUniqueViolation(err)) throw err;
  }
  const made = await read();
  if (!made) throw new Error('the replication site id could not be stored');
  return made;
}

const known = new WeakMap<Database, Promise<string>>();

/** The site id, read once per node's database (it never changes once made); a failed read is tried again next time. */
export function siteIdOnce(database: Database): Promise<string> {
  let id = known.get(database);
  if (!id) {
    id = loadSiteId(database).catch((err: unknown) => {
      known.delete(database);
      throw err;
    });
    known.set(database, id);
  }
  return id;
}
