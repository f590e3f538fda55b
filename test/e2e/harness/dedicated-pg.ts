import { startEmbeddedPostgres } from '../../helpers/embedded-pg.js';

/** A PostgreSQL server of the test's own, so it can be stopped and started. */
export function startDedicatedPostgres() {
  return startEmbeddedPostgres({ persistent: true, database: 'arca' });
}
