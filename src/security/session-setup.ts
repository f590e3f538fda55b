import { randomInt } from 'node:crypto';
import type { SystemProperties } from '../config/system-properties.js';
import type { Database } from '../db/database.js';
import { orIgnore } from '../db/dialect.js';
import { DbSessionStore } from './session-store-db.js';
import { LocalSessionStore } from './session-store-local.js';
import { RedisSessionStore } from './session-store-redis.js';
import type { SessionStore } from './session-store.js';

/** The store `artifactory.map.provider.type` names. */
export async function openSessionStore(props: SystemProperties, database: Database, onRedisError?: (err: Error) => void): Promise<SessionStore> {
  switch (props.sessionProvider) {
    case 'db':
      return new DbSessionStore(database);
    case 'jvm':
      return new LocalSessionStore();
    case 'distributed':
      return RedisSessionStore.open({
        url: props.get('arca.session.redis.url')!,
        keyPrefix: props.get('arca.session.redis.keyPrefix')!,
        onError: onRedisError,
      });
  }
}

const MINUTE_KEY = 'session.cleanup.minute';

/**
 * The Quartz cron of the db-session cleanup task: `artifactory.db.session.cleanup.cron` when
 * the system properties give it (the default file fixes a random minute at install, as the
 * seed's installer does), else `0 <m> * * * ?` with a minute drawn once for the whole cluster
 * and kept in the database, so every node agrees on it.
 */
export async function sessionCleanupCron(props: SystemProperties, database: Database): Promise<string> {
  const given = props.sessionCleanupCron;
  if (given) return given;
  const db = database.db;
  const insert = db.insertInto('system_config').values({ config_key: MINUTE_KEY, config_value: String(randomInt(60)), modified: Date.now() });
  await orIgnore(db, insert, 'config_key').execute();
  const row = await db.selectFrom('system_config').select('config_value').where('config_key', '=', MINUTE_KEY).executeTakeFirstOrThrow();
  return `0 ${Number(row.config_value)} * * * ?`;
}

/**
 * The cron of the cluster task that removes expired db sessions, or undefined when sessions
 * are not in the database (Redis expires its keys; jvm sessions are swept by their process).
 * The task itself is `SessionService.cleanup()`: idempotent, so any node may run it.
 */
export async function sessionCleanupSchedule(props: SystemProperties, database: Database): Promise<string | undefined> {
  return props.sessionProvider === 'db' ? sessionCleanupCron(props, database) : undefined;
}
