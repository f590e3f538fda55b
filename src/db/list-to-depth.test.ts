import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlite, type Database } from './database.js';
import { ensureFolders, fullPathOf, listDescendants, listToDepth, putFile } from './items.js';
import { migrate } from './migrate.js';

/** A listing to a bounded depth returns exactly what the whole subtree, cut at that depth, holds. */

let d: Database;
const files: string[] = [];

beforeAll(async () => {
  d = openSqlite(':memory:');
  await migrate(d);
  // Three levels of folders, files at every level, plus a second repository that must not leak in.
  for (const a of ['a', 'b', 'c']) {
    files.push(`${a}.txt`);
    for (const b of ['x', 'y']) {
      files.push(`${a}/${b}.txt`);
      for (const c of ['p', 'q']) files.push(`${a}/${b}/${c}.txt`, `${a}/${b}/${c}/deep.bin`);
    }
  }
  for (const repo of ['tree', 'other']) {
    for (const path of files) {
      await ensureFolders(d.db, repo, path, 'u', 1);
      const binary = { sha1: '0'.repeat(40), sha256: '0'.repeat(64), md5: '0'.repeat(32), size: 1 };
      await putFile(d.db, { repo, fullPath: path, binary, original: {}, mimeType: 'text/plain', user: 'u', now: 1 });
    }
  }
});

afterAll(() => d?.close());

const names = (rows: { path: string; name: string }[]) => rows.map(fullPathOf).sort();
const depthBelow = (folder: string, full: string) => (folder === '' ? full : full.slice(folder.length + 1)).split('/').length;

describe('listToDepth', () => {
  for (const folder of ['', 'a', 'a/x', 'a/x/p']) {
    for (const depth of [1, 2, 3, 4, 5]) {
      it(`lists '${folder || '/'}' to depth ${depth} as the cut subtree`, async () => {
        const whole = (await listDescendants(d.db, 'tree', folder)).filter((r) => depthBelow(folder, fullPathOf(r)) <= depth);
        const got = await listToDepth(d.db, 'tree', folder, depth);
        expect(names(got)).toEqual(names(whole));
        expect(got.every((r) => r.repo === 'tree')).toBe(true);
      });
    }
  }

  it('answers nothing for a file, a missing folder or depth 0', async () => {
    expect(await listToDepth(d.db, 'tree', 'a.txt', 3)).toEqual([]);
    expect(await listToDepth(d.db, 'tree', 'nope', 3)).toEqual([]);
    expect(await listToDepth(d.db, 'tree', '', 0)).toEqual([]);
  });
});
