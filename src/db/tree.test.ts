import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { deleteTreeInBatches, ensureFolders, fullPathOf, listDescendants, putFile, setProperties, type ItemRow } from './items.js';
import { seededRandom } from '../core/seeded-random.js';
import type { Schema } from './schema.js';
import { childrenPage, cursorOf, descendantPages, walkTree, type TreeCursor } from './tree.js';

/**
 * The paged walks of src/db/tree.ts against a straightforward reference (every row of the
 * repository, filtered and sorted in JavaScript) on random trees, on every dialect: the same
 * rows, in the same order, each exactly once, whatever the page size.
 */

const bin = { sha1: '1'.repeat(40), sha256: '2'.repeat(64), md5: '3'.repeat(32), size: 1 };


// Characters around '/' (0x2F) and '0' (0x30), the bounds of a subtree's range, and beyond ASCII.
const FIRST = ['a', 'b', 'A', 'z', 'é', 'ж'];
const REST = ['a', 'b', '-', '.', '_', '0', '1', 'A', 'é', '~', '+'];

function randomTree(seed: number, files: number): string[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const name = () => pick(FIRST) + Array.from({ length: Math.floor(rnd() * 3) }, () => pick(REST)).join('');
  const out = new Set<string>();
  // Look-alike siblings of one folder: a-b, a.b, a0, a/b0 must stay out of a/b's subtree.
  for (const p of ['a/b/x', 'a/b/y/z', 'a/b-c/x', 'a/b.c/x', 'a/b0/x', 'a/b0', 'a/bb/x', 'a/b/b0/x', 'a-b/x']) out.add(p);
  while (out.size < files) {
    const depth = 1 + Math.floor(rnd() * 4);
    out.add(Array.from({ length: depth }, name).join('/'));
  }
  return [...out];
}

/** Tree order: segment by segment, so a folder is directly followed by its content. */
function treeOrder(a: string, b: string): number {
  const sa = a.split('/');
  const sb = b.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) if (sa[i] !== sb[i]) return sa[i] < sb[i] ? -1 : 1;
  return sa.length - sb.length;
}

const below = (folder: string, full: string) => folder === '' || full.startsWith(`${folder}/`);
const depthBelow = (folder: string, full: string) => (folder === '' ? full : full.slice(folder.length + 1)).split('/').length;

async function collect(pages: AsyncIterable<ItemRow[]>): Promise<ItemRow[]> {
  const out: ItemRow[] = [];
  for await (const p of pages) {
    expect(p.length).toBeGreaterThan(0);
    out.push(...p);
  }
  return out;
}

describe.each(DIALECTS)('tree walks on %s', (dialect) => {
  let t: TestDatabase;
  let db: Kysely<Schema>;
  let paths: string[];
  let folders: string[];

  async function deploy(repo: string, path: string) {
    try {
      await ensureFolders(db, repo, path, 'u', 1);
      return (await putFile(db, { repo, fullPath: path, binary: bin, original: {}, mimeType: 'x', user: 'u', now: 1 })).row;
    } catch {
      return undefined; // a file or folder already stands in the way: fine for a random tree
    }
  }
  const everything = async (repo: string) => db.selectFrom('items').selectAll().where('repo', '=', repo).execute();

  beforeAll(async () => {
    t = await openTestDatabase(dialect);
    db = t.database.db;
    for (const p of randomTree(14, 160)) await deploy('tree', p);
    for (const p of ['a/b/x', 'a/b/y/z', 'other.txt']) await deploy('other', p);
    paths = (await everything('tree')).map(fullPathOf);
    folders = ['', ...(await everything('tree')).filter((r) => r.type === 'folder').map(fullPathOf)];
  }, 120_000);
  afterAll(() => t?.drop());

  it('walks any folder to any depth in tree order, whatever the page size', async () => {
    for (const folder of ['', 'a', 'a/b', ...folders.filter((_, i) => i % 7 === 0)]) {
      for (const depth of [1, 2, 3, Infinity]) {
        const want = paths.filter((p) => below(folder, p) && p !== folder && depthBelow(folder, p) <= depth).sort(treeOrder);
        for (const pageSize of [2, 500]) {
          const got = (await collect(walkTree(db, 'tree', folder, depth, pageSize))).map(fullPathOf);
          expect(got, `${folder} depth ${depth} page ${pageSize}`).toEqual(want);
        }
      }
    }
    expect(await collect(walkTree(db, 'tree', 'a/b/x', Infinity))).toEqual([]);
    expect(await collect(walkTree(db, 'tree', 'missing', Infinity))).toEqual([]);
    expect(await collect(walkTree(db, 'tree', '', 0))).toEqual([]);
  }, 60_000);

  it('lists a subtree by path range: exactly the rows below the folder, in (path, name) order', async () => {
    const byPathName = (a: ItemRow, b: ItemRow) => (a.path === b.path ? (a.name < b.name ? -1 : 1) : a.path < b.path ? -1 : 1);
    const all = await everything('tree');
    for (const folder of ['', 'a', 'a/b', ...folders.filter((_, i) => i % 5 === 0)]) {
      const want = all.filter((r) => below(folder, fullPathOf(r)) && fullPathOf(r) !== folder).sort(byPathName).map(fullPathOf);
      expect((await collect(descendantPages(db, 'tree', folder, 3))).map(fullPathOf), folder).toEqual(want);
      expect((await listDescendants(db, 'tree', folder)).map(fullPathOf), folder).toEqual(want);
    }
    expect((await listDescendants(db, 'tree', 'a/b')).map(fullPathOf).sort()).toEqual(['a/b/b0', 'a/b/b0/x', 'a/b/x', 'a/b/y', 'a/b/y/z']);
  });

  it('pages through every folder: each child exactly once, in name order', async () => {
    for (const folder of folders) {
      const want = paths.filter((p) => below(folder, p) && p !== folder && depthBelow(folder, p) === 1).sort(treeOrder);
      for (const limit of [1, 3, 1000]) {
        const got: string[] = [];
        let after: TreeCursor | undefined;
        for (let pages = 0; ; pages++) {
          expect(pages).toBeLessThanOrEqual(want.length + 1);
          const page = await childrenPage(db, 'tree', folder, after, limit);
          got.push(...page.map(fullPathOf));
          if (page.length < limit) break;
          after = cursorOf(page[page.length - 1]);
        }
        expect(got, `${folder} by ${limit}`).toEqual(want);
      }
    }
  }, 60_000);
});

describe.each(DIALECTS)('deleteTreeInBatches on %s', (dialect) => {
  let t: TestDatabase;
  let db: Kysely<Schema>;

  beforeAll(async () => {
    t = await openTestDatabase(dialect);
    db = t.database.db;
  }, 60_000);
  afterAll(() => t?.drop());

  async function deploy(repo: string, path: string) {
    await ensureFolders(db, repo, path, 'u', 1);
    const { row } = await putFile(db, { repo, fullPath: path, binary: bin, original: {}, mimeType: 'x', user: 'u', now: 1 });
    await setProperties(db, row.id, { k: [path] });
    return row;
  }
  const snapshot = async () =>
    (await db.selectFrom('items').select(['repo', 'path', 'name', 'id', 'modified']).execute()).map((r) => `${r.repo}:${fullPathOf(r)}#${r.id}@${r.modified}`).sort();
  const props = async () => (await db.selectFrom('item_props').select(['item_id', 'prop_value']).execute()).map((r) => `${r.item_id}=${r.prop_value}`).sort();
  /** Every item's parent folder exists: the tree is whole. */
  async function whole(repo: string) {
    const rows = await db.selectFrom('items').selectAll().where('repo', '=', repo).execute();
    const have = new Set(rows.filter((r) => r.type === 'folder').map(fullPathOf));
    for (const r of rows) if (r.path !== '') expect(have.has(r.path), `${fullPathOf(r)} lost its folder`).toBe(true);
  }
  const fill = async (repo: string) => {
    for (const p of ['d/1', 'd/2', 'd/e/3', 'd/e/f/4', 'd/e/f/5', 'd/g/6', 'd-x/7', 'd.x/8', 'd0/9', 'dd/10', 'x/d/11', 'top']) await deploy(repo, p);
  };

  it('deletes the folder and everything below it, in small batches, touching nothing else', async () => {
    await fill('r');
    await fill('s');
    const before = await snapshot();
    const propsBefore = await props();
    const doomed = before.filter((s) => /^r:d(\/|#)/.test(s));
    expect(doomed).toHaveLength(10);
    expect(await deleteTreeInBatches(db, 'r', 'd', 2)).toBe(10);
    expect(await snapshot()).toEqual(before.filter((s) => !doomed.includes(s)));
    const doomedIds = new Set(doomed.map((s) => s.split('#')[1].split('@')[0]));
    expect(await props()).toEqual(propsBefore.filter((p) => !doomedIds.has(p.split('=')[0])));
    // Again: nothing left to delete.
    expect(await deleteTreeInBatches(db, 'r', 'd', 2)).toBe(0);
    expect(await deleteTreeInBatches(db, 'r', 'top', 2)).toBe(1);
    // The repository root: everything of 'r', nothing of 's'.
    const rest = (await snapshot()).filter((s) => s.startsWith('r:')).length;
    expect(await deleteTreeInBatches(db, 'r', '', 3)).toBe(rest);
    expect((await snapshot()).filter((s) => s.startsWith('r:'))).toEqual([]);
    expect((await snapshot()).filter((s) => s.startsWith('s:'))).toEqual(before.filter((s) => s.startsWith('s:')));
  });

  it('leaves a whole tree when interrupted, and finishes when run again', async () => {
    await fill('i');
    let calls = 0;
    const failing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'transaction' && ++calls > 2) throw new Error('interrupted');
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    await expect(deleteTreeInBatches(failing, 'i', 'd', 2)).rejects.toThrow('interrupted');
    const left = (await snapshot()).filter((s) => s.startsWith('i:d/') || /^i:d#/.test(s));
    expect(left.length).toBeGreaterThan(0);
    expect(left.length).toBeLessThan(10);
    await whole('i');
    expect(await deleteTreeInBatches(db, 'i', 'd', 2)).toBe(left.length);
    expect((await snapshot()).filter((s) => s.startsWith('i:d/') || /^i:d#/.test(s))).toEqual([]);
    await whole('i');
  });

  it('also deletes what a deploy puts into the folder while it runs', async () => {
    await fill('c');
    let calls = 0;
    let late: Promise<unknown> = Promise.resolve();
    const racing = new Proxy(db, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'transaction' && ++calls === 3) {
          return (...args: unknown[]) => {
            // A deploy lands between two batches, into a folder the delete has already emptied.
            late = deploy('c', 'd/e/f/late').catch(() => undefined);
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    await deleteTreeInBatches(racing, 'c', 'd', 2);
    await late;
    // Whichever came first, no item is left without its folder.
    await whole('c');
    const left = (await snapshot()).filter((s) => s.startsWith('c:d/') || /^c:d#/.test(s));
    if (left.length > 0) expect(left.some((s) => s.startsWith('c:d/e/f/late#'))).toBe(true);
  });
});
