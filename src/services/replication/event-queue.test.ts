import { DIALECTS, openTestDatabase } from '../../../test/helpers/databases.js';
import { openDatabase } from '../../db/database.js';
import { eventQueueConformance } from './testing/event-queue-conformance.js';

for (const dialect of DIALECTS) {
  eventQueueConformance(dialect, async () => {
    const t = await openTestDatabase(dialect);
    return {
      database: t.database,
      // SQLite is a single-node database: a node's workers share its one connection (a second
      // in-process connection would wait for the first one's lock on the event loop it blocks).
      openOther: async () =>
        dialect === 'sqlite'
          ? { ...t.database, close: async () => undefined }
          : openDatabase({ ...t.config, poolMaxActive: Math.min(4, t.config.poolMaxActive), poolMaxIdle: Math.min(4, t.config.poolMaxIdle) }),
      cleanup: () => t.drop(),
    };
  });
}
