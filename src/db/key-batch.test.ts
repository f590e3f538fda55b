import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { pathKey, putFile } from './items.js';
import { MAX_KEYS_PER_QUERY, paddedKeys } from './key-batch.js';
import { DIALECTS, freshDatabaseConfig, openTestDatabase, type TestDatabase } from './testing/databases.js';

const BIN = { sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), md5: 'c'.repeat(32), size: 3 };

async function put(t: TestDatabase, fullPath: string, now = 1000): Promise<void> {
  await t.database.db.transaction().execute((trx) => putFile(trx, { repo: 'r', fullPath, binary: BIN, original: {}, mimeType: 'text/plain', user: 'u', now }));
}

describe('paddedKeys', () => {
  it('rounds the placeholders up to a power of two by repeating the last key', () => {
    expect(paddedKeys(['a'])).toEqual({ slots: 1, values: ['a'] });
    expect(paddedKeys(['a', 'b', 'c'])).toEqual({ slots: 4, values: ['a', 'b', 'c', 'c'] });
    expect(paddedKeys(Array.from({ length: 129 }, (_, i) => String(i))).slots).toBe(256);
  });
});

// The dialects where a lookup is a round trip batch them; SQLite reads synchronously.
for (const dialect of DIALECTS.filter((d) => d !== 'sqlite')) {
  describe(`item lookups of one turn in one query (${dialect})`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase(dialect);
      await t.database.db.insertInto('binaries').values({ ...BIN, created: 1 }).execute();
      for (let i = 0; i < 300; i++) await put(t, `d/f${i}.txt`);
    });
    afterAll(async () => t?.drop());

    it('answers each caller with its own row (or none), duplicates included, in one query per 256 keys', async () => {
      const lookups = t.database.itemLookups!;
      const before = lookups.queries;
      const paths = [...Array.from({ length: 300 }, (_, i) => `d/f${i}.txt`), 'd/f7.txt', 'd/f7.txt', 'd/missing.txt'];
      const rows = await Promise.all(paths.map((p) => t.database.itemByKey(pathKey('r', p))));
      // 301 distinct keys (the missing one too): two queries.
      expect(lookups.queries - before).toBe(Math.ceil(301 / MAX_KEYS_PER_QUERY));
      rows.forEach((row, k) => {
        const p = paths[k];
        if (p === 'd/missing.txt') expect(row).toBeUndefined();
        else expect(`${row?.path}/${row?.name}`).toBe(p);
      });
      // Lookups in different turns go out separately.
      const one = await t.database.itemByKey(pathKey('r', 'd/f1.txt'));
      const two = await t.database.itemByKey(pathKey('r', 'd/f2.txt'));
      expect([one?.name, two?.name]).toEqual(['f1.txt', 'f2.txt']);
      expect(lookups.queries - before).toBe(Math.ceil(301 / MAX_KEYS_PER_QUERY) + 2);
    });

    it('sees a commit made on another connection just before the lookup was asked for', async () => {
      // A second pool on the same database: another process, as far as this one can tell.
      const other = await openDatabase(t.config);
      try {
        for (let i = 0; i < 5; i++) {
          const path = `w/f${i}.txt`;
          const pending = Promise.all([t.database.itemByKey(pathKey('r', 'd/f1.txt')), t.database.itemByKey(pathKey('r', path))]);
          expect((await pending)[1]).toBeUndefined();
          await other.db.transaction().execute((trx) => putFile(trx, { repo: 'r', fullPath: path, binary: BIN, original: {}, mimeType: 'text/plain', user: 'u', now: 2000 + i }));
          const [, seen] = await Promise.all([t.database.itemByKey(pathKey('r', 'd/f1.txt')), t.database.itemByKey(pathKey('r', path))]);
          expect(Number(seen?.modified)).toBe(2000 + i);
          await other.db.deleteFrom('items').where('path_key', '=', pathKey('r', path)).execute();
          expect(await t.database.itemByKey(pathKey('r', path))).toBeUndefined();
        }
      } finally {
        await other.close();
      }
    });

    it('fails every caller of a batch whose query fails', async () => {
      // A database without the schema: the query fails.
      const fresh = await freshDatabaseConfig(dialect);
      const broken = await openDatabase(fresh.config);
      try {
        const results = await Promise.allSettled([broken.itemByKey(pathKey('r', 'd/f1.txt')), broken.itemByKey(pathKey('r', 'd/f2.txt'))]);
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      } finally {
        await broken.close();
        await fresh.drop();
      }
    });
  });
}
