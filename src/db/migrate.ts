import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * Runs the numbered migrations that have not run yet. Kysely's migrator holds a lock while it
 * runs (a lock table row, taken inside one transaction), so nodes starting together run each
 * migration once.
 */
export async function migrate(database: Database, options: { before?: string } = {}): Promise<string[]> {
  // `before`: only the migrations older than this one (tests of a migration on a populated database).
  const wanted = options.before === undefined ? MIGRATIONS : MIGRATIONS.filter((m) => m.name < options.before!);
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const m of wanted) out[m.name] = { up: (db) => m.up(db, database.dialect) };
      return out;
    },
  };
  const migrator = new Migrator({
    db: database.db,
    provider,
    migrationTableName: 'arca_migrations',
    migrationLockTableName: 'arca_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
