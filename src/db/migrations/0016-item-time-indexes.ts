import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * AQL's time criteria (issue 15, item 1): cleanup scripts ask a repository for what was
 * created or modified before or after a time (`"created":{"$lte":"2024-10-10"}`,
 * `"modified":{"$before":"60d"}`), often oldest or newest first with a limit. Per repository,
 * each time is then one range of an index, in time order; the id last makes that order total
 * (AQL pages resume after the last row, by time and id), so a sorted, limited query reads
 * only the rows it returns. `updated` (the metadata time) is left unindexed: nothing the CLI
 * or the cleanup tools send uses it.
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.createIndex('items_repo_created').on('items').columns(['repo', 'created', 'id']).execute();
  await db.schema.createIndex('items_repo_modified').on('items').columns(['repo', 'modified', 'id']).execute();
}
