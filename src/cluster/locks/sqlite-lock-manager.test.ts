import { openTestDatabase } from '../../../test/helpers/databases.js';
import { SqliteLockManager } from './sqlite-lock-manager.js';
import { lockManagerConformance } from './testing/conformance.js';

lockManagerConformance('sqlite', async () => {
  const t = await openTestDatabase('sqlite');
  return {
    database: t.database,
    open: async (clock, options) => new SqliteLockManager(t.config.sqliteFile!, clock, options),
    cleanup: () => t.drop(),
  };
});
