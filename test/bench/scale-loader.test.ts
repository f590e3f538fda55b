/**
 * The `--scale` bench's bulk loader writes what the application itself reads: checked here
 * through src/db's own functions on every dialect, so that a schema change the loader does not
 * follow (a new column without a default, say) fails here rather than in a 20-minute bench run.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteFolder, filePath, GENERIC, leafFolder, NPM, NPM_PACKAGE, NPM_VERSIONS, PYPI, PYPI_PROJECT, PYPI_VERSIONS, uniqueContent } from '../../bench/scale/layout.js';
import { createLoader, type Loader } from '../../bench/scale/loader.js';
import { findBinary } from '../../src/db/binaries.js';
import { getItem, getProperties, listChildren, listDescendants } from '../../src/db/items.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../src/db/testing/databases.js';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe.each(DIALECTS)('scale bench loader on %s', (dialect) => {
  let t: TestDatabase;
  let store: string;
  let loader: Loader;
  const stored = (hex: string) => join(store, hex.slice(0, 2), hex);

  beforeAll(async () => {
    t = await openTestDatabase(dialect);
    store = mkdtempSync(join(tmpdir(), 'arca-scale-store-'));
    loader = createLoader(t.database, store);
    await loader.packages();
    await loader.grow(0, 120, () => undefined);
    // Grown from the middle of a leaf folder, as a size that is not a multiple of 50 leaves it.
    await loader.grow(120, 260, () => undefined);
    await loader.deleteFolders('a', 2);
    await loader.deleteFolders('b', 1);
  });

  afterAll(async () => {
    await t?.drop();
    if (store) rmSync(store, { recursive: true, force: true });
  });

  it('puts 50 files in each leaf folder, with their folders, across a growth step', async () => {
    const db = t.database.db;
    for (const i of [0, 100, 250]) {
      const files = (await listChildren(db, GENERIC, leafFolder(i))).filter((r) => r.type === 'file');
      expect(files.length, leafFolder(i)).toBe(i === 250 ? 10 : 50);
    }
    expect((await getItem(db, GENERIC, 'g0'))?.type).toBe('folder');
    expect((await getItem(db, GENERIC, 'g0/m0'))?.type).toBe('folder');
    const all = (await listDescendants(db, GENERIC, 'g0')).filter((r) => r.type === 'file');
    expect(all.length).toBe(260);
  });

  it('gives every tenth file a binary of its own, stored, with properties', async () => {
    const db = t.database.db;
    const content = uniqueContent(130);
    const row = await getItem(db, GENERIC, filePath(130));
    expect(row?.sha1).toBe(sha1(content));
    expect(readFileSync(stored(row!.sha1!)).equals(content)).toBe(true);
    expect(await findBinary(db, { sha1: row!.sha1! })).toMatchObject({ size: content.length });
    expect((await getProperties(db, [row!.id])).get(row!.id)).toEqual({ 'build.number': ['130'], 'build.name': ['g0'] });
    const shared = await getItem(db, GENERIC, filePath(131));
    expect(existsSync(stored(shared!.sha1!))).toBe(true);
    expect((await getProperties(db, [shared!.id])).size).toBe(0);
  });

  it('loads 500-file folders to delete, for each tag', async () => {
    for (const f of [deleteFolder('a', 0), deleteFolder('a', 1), deleteFolder('b', 0)]) {
      const files = (await listDescendants(t.database.db, GENERIC, f)).filter((r) => r.type === 'file');
      expect(files.length, f).toBe(500);
    }
  });

  it('loads an npm package document that lists every version, and a PyPI project', async () => {
    const db = t.database.db;
    const doc = await getItem(db, NPM, `.npm/${NPM_PACKAGE}/package.json`);
    const parsed = JSON.parse(readFileSync(stored(doc!.sha1!), 'utf8')) as { versions: Record<string, { dist: { tarball: string } }> };
    expect(Object.keys(parsed.versions).length).toBe(NPM_VERSIONS);
    const tarball = parsed.versions['1.9.99'].dist.tarball;
    expect((await getItem(db, NPM, tarball))?.type).toBe('file');
    const files = (await listDescendants(db, PYPI, PYPI_PROJECT)).filter((r) => r.type === 'file');
    expect(files.length).toBe(PYPI_VERSIONS * 2);
    const props = await getProperties(db, [files[0].id]);
    expect(props.get(files[0].id)?.['pypi.normalized.name']).toEqual([PYPI_PROJECT]);
  });
});
