import { ConfigVersions } from '../../cluster/config-versions.js';
import { PgChangeListener } from '../../cluster/pg-change-listener.js';
import { openDatabase, type Database } from '../../db/database.js';
import type { Wired } from '../lifecycle.js';
import type { NodeConfig } from './config.js';

/** The node's database (etc/db.properties), closed last. */
export async function openNodeDatabase(cfg: Pick<NodeConfig, 'dbConfig'>): Promise<Wired<Database>> {
  const database = await openDatabase(cfg.dbConfig);
  return { value: database, close: () => database.close() };
}

/**
 * The configuration version counters that drop this process's caches when another process
 * changes repositories, security or settings: polled every `arca.propagation.pollIntervalMs`,
 * and on PostgreSQL also notified through LISTEN. Started once the schema is current.
 */
export function configVersions(cfg: Pick<NodeConfig, 'dbConfig' | 'system' | 'log'>, database: Database): Wired<ConfigVersions> {
  const { dbConfig, log } = cfg;
  const versions = new ConfigVersions(database, {
    intervalMs: cfg.system.number('arca.propagation.pollIntervalMs'),
    notifications:
      dbConfig.type === 'postgresql'
        ? (hooks) =>
            new PgChangeListener(dbConfig.pg!, {
              ...hooks,
              onEvent: (e) => {
                if (e.type === 'lost') log.warn({ err: e.error, retryMs: e.retryMs }, 'configuration change listener lost its connection; reconnecting');
                else if (e.reconnect) log.info('configuration change listener reconnected');
              },
            })
        : undefined,
  });
  return { value: versions, close: () => versions.stop() };
}
