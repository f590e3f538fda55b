import { DIALECTS, openTestDatabase } from '../../../test/helpers/databases.js';
import { openDatabase } from '../../db/database.js';
import { SqlLockManager } from './sql-lock-manager.js';
import { lockManagerConformance } from './testing/conformance.js';

for (const dialect of DIALECTS.filter((d) => d !== 'sqlite')) {
  lockManagerConformance(dialect, async () => {
    const t = await openTestDatabase(dialect);
    return {
      database: t.database,
      // Each manager gets its own small pool, as each node's lock pool would be.
      open: async (clock, options) =>
        new SqlLockManager(await openDatabase({ ...t.config, poolMaxActive: 4, poolMaxIdle: 4 }), clock, { ...options, ownsDatabase: true }),
      cleanup: () => t.drop(),
    };
  });
}
