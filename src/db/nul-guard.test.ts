import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { isArcaError } from '../core/errors.js';

describe.each(DIALECTS)('NUL in query parameters on %s', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(dialect);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('refuses a NUL in any string a statement sends, as a BAD_REQUEST, before the database sees it', async () => {
    const db = t.database.db;
    const refused = (p: Promise<unknown>) => p.then(() => 'ran', (err: unknown) => (isArcaError(err, 'BAD_REQUEST') ? 'refused' : String(err)));
    expect(await refused(db.selectFrom('users').select('name').where('name', '=', 'a\u0000b').execute())).toBe('refused');
    expect(await refused(db.selectFrom('users').select('name').where('name', 'in', ['x', 'a\u0000']).execute())).toBe('refused');
    expect(await refused(sql`select ${'\u0000'} as v`.execute(db))).toBe('refused');
    expect(await refused(db.insertInto('security_groups').values({ name: 'g\u0000', description: null, auto_join: 0, admin_privileges: 0, realm: 'internal', created: 1, modified: 1 }).execute())).toBe('refused');
    // Everything else runs as before.
    expect(await refused(db.selectFrom('users').select('name').where('name', '=', 'a\\u0000b').execute())).toBe('ran');
    expect(await refused(db.selectFrom('items').select('id').where('path_key', '=', 'f'.repeat(40)).execute())).toBe('ran');
  });
});
