import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { deleteTree, ensureFolders, FolderConflict, getItem, getProperties, listChildren, listDescendants, putFile, setProperties, deleteProperties } from './items.js';

const bin = (n: number) => ({ sha1: String(n).padStart(40, '0'), sha256: String(n).padStart(64, '0'), md5: String(n).padStart(32, '0'), size: n });

describe.each(DIALECTS)('items repository on %s', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(dialect);
  });
  afterEach(async () => {
    await t.drop();
  });

  async function file(repo: string, path: string, n = 1) {
    const db = t.database.db;
    await ensureFolders(db, repo, path, 'u', 1000);
    return putFile(db, { repo, fullPath: path, binary: bin(n), original: {}, mimeType: 'x', user: 'u', now: 1000 });
  }

  it('creates ancestor folders once and refuses a file where a folder is needed', async () => {
    await file('r', 'a/b/c.txt');
    await file('r', 'a/b/d.txt');
    expect((await listChildren(t.database.db, 'r', '')).map((i) => [i.name, i.type])).toEqual([['a', 'folder']]);
    expect((await listChildren(t.database.db, 'r', 'a/b')).map((i) => i.name)).toEqual(['c.txt', 'd.txt']);
    await expect(ensureFolders(t.database.db, 'r', 'a/b/c.txt/x', 'u', 1)).rejects.toBeInstanceOf(FolderConflict);
    await expect(putFile(t.database.db, { repo: 'r', fullPath: 'a/b', binary: bin(2), original: {}, mimeType: 'x', user: 'u', now: 1 })).rejects.toBeInstanceOf(FolderConflict);
  });

  it('replaces a file in place and drops its properties', async () => {
    const first = await file('r', 'x.bin', 1);
    await setProperties(t.database.db, first.row.id, { k: ['v1', 'v2'] });
    const second = await file('r', 'x.bin', 2);
    expect(second.replaced?.sha1).toBe(bin(1).sha1);
    expect(second.row.sha1).toBe(bin(2).sha1);
    expect((await getProperties(t.database.db, [second.row.id])).get(second.row.id)).toBeUndefined();
  });

  it('sets, replaces and deletes properties per key, keeping value order', async () => {
    const { row } = await file('r', 'p.bin');
    await setProperties(t.database.db, row.id, { a: ['1', '2'], b: ['x'] });
    await setProperties(t.database.db, row.id, { b: ['y', 'z'] });
    expect((await getProperties(t.database.db, [row.id])).get(row.id)).toEqual({ a: ['1', '2'], b: ['y', 'z'] });
    await deleteProperties(t.database.db, row.id, ['a']);
    expect((await getProperties(t.database.db, [row.id])).get(row.id)).toEqual({ b: ['y', 'z'] });
  });

  it('lists and deletes a folder tree without touching look-alike siblings (LIKE metacharacters, case)', async () => {
    await file('r', 'a_b/1.txt');
    await file('r', 'a_b/deep/2.txt');
    await file('r', 'axb/3.txt');
    await file('r', 'a%b/4.txt');
    await file('r', 'A_B/5.txt');
    await file('r', 'a_bc/6.txt');
    await file('other', 'a_b/7.txt');
    const below = await listDescendants(t.database.db, 'r', 'a_b');
    expect(below.map((i) => `${i.path}/${i.name}`).sort()).toEqual(['a_b/1.txt', 'a_b/deep', 'a_b/deep/2.txt']);
    const deleted = await deleteTree(t.database.db, 'r', 'a_b');
    expect(deleted).toHaveLength(4);
    for (const p of ['axb/3.txt', 'a%b/4.txt', 'A_B/5.txt', 'a_bc/6.txt']) expect(await getItem(t.database.db, 'r', p), p).toBeDefined();
    expect(await getItem(t.database.db, 'other', 'a_b/7.txt')).toBeDefined();
    expect(await getItem(t.database.db, 'r', 'a_b')).toBeUndefined();
  });

  it('stores unicode names and long paths', async () => {
    const name = `ünïcødé/${'d'.repeat(200)}/${'f'.repeat(250)}.txt`;
    await file('r', name);
    expect((await getItem(t.database.db, 'r', name))?.name).toBe(`${'f'.repeat(250)}.txt`);
  });
});
