import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameOf, parentOf } from '../core/paths.js';
import { pathKey } from './items.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from './testing/databases.js';

/**
 * The triggers of migration 0013 keep `npm_search` (one row per package document) and
 * `oci_images` (one row per image with a digest manifest) exact under every kind of item
 * change, whatever code path makes it.
 */

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const D3 = `sha512:${'c'.repeat(128)}`;

describe.each(DIALECTS)('format index triggers on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(dialect);
  });
  afterAll(async () => t?.drop());

  const put = async (repo: string, full: string, sha1 = 'f'.repeat(40)) => {
    const base = { created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1 };
    await t.database.db
      .insertInto('items')
      .values({ ...base, path_key: pathKey(repo, full), repo, path: parentOf(full), name: nameOf(full), type: 'file', size: 1, sha1 })
      .execute();
  };
  const images = async (repo: string) =>
    (await t.database.db.selectFrom('oci_images').select('image').where('repo', '=', repo).orderBy('image').execute()).map((r) => r.image);
  const npmRows = async (repo: string) =>
    (await t.database.db.selectFrom('npm_search').innerJoin('items', 'items.id', 'npm_search.item_id').select(['items.path', 'npm_search.doc_sha1']).where('npm_search.repo', '=', repo).orderBy('items.path').execute());

  it('adds an image with its first digest manifest and drops it with its last', async () => {
    await put('docker', `lib/app/${D1}/manifest.json`);
    await put('docker', `lib/app/${D2}/list.manifest.json`);
    await put('docker', `lib/app/latest/manifest.json`); // a tag: not what makes an image
    await put('docker', `other/v1/manifest.json`); // tagged only: no image yet
    await put('docker', `lib/app/${D1}/sha256__${'d'.repeat(64)}`); // a layer
    await put('docker', `big/${D3}/manifest.json`);
    await put('docker', `${D1}/manifest.json`); // no image name
    expect(await images('docker')).toEqual(['big', 'lib/app']);

    await t.database.db.deleteFrom('items').where('repo', '=', 'docker').where('path', '=', `lib/app/${D1}`).execute(); // manifest and layer at once
    expect(await images('docker')).toEqual(['big', 'lib/app']);
    await t.database.db.deleteFrom('items').where('path_key', '=', pathKey('docker', `lib/app/${D2}/list.manifest.json`)).execute();
    expect(await images('docker')).toEqual(['big']);
    // A move (an update of path) carries the image along.
    await t.database.db.updateTable('items').set({ path: `moved/${D3}`, path_key: pathKey('docker', `moved/${D3}/manifest.json`) }).where('path_key', '=', pathKey('docker', `big/${D3}/manifest.json`)).execute();
    expect(await images('docker')).toEqual(['moved']);
    await t.database.db.deleteFrom('items').where('repo', '=', 'docker').execute();
    expect(await images('docker')).toEqual([]);
  });

  it('keeps one npm search row per package document, emptied when the document changes', async () => {
    await put('npm', '.npm/a/package.json', '1'.repeat(40));
    await put('npm', '.npm/@s/b/package.json', '2'.repeat(40));
    await put('npm', 'a/-/a-1.0.0.tgz');
    await put('npm', 'a/package.json'); // not below .npm
    expect(await npmRows('npm')).toEqual([
      { path: '.npm/@s/b', doc_sha1: null },
      { path: '.npm/a', doc_sha1: null },
    ]);
    await t.database.db.updateTable('npm_search').set({ doc_sha1: '1'.repeat(40), listed: 1 }).where('repo', '=', 'npm').execute();
    // A touch that keeps the content keeps the row; a new content empties it.
    await t.database.db.updateTable('items').set({ modified: 2 }).where('path_key', '=', pathKey('npm', '.npm/a/package.json')).execute();
    expect((await npmRows('npm')).map((r) => r.doc_sha1)).toEqual(['1'.repeat(40), '1'.repeat(40)]);
    await t.database.db.updateTable('items').set({ sha1: '3'.repeat(40) }).where('path_key', '=', pathKey('npm', '.npm/a/package.json')).execute();
    expect(await npmRows('npm')).toEqual([
      { path: '.npm/@s/b', doc_sha1: '1'.repeat(40) },
      { path: '.npm/a', doc_sha1: null },
    ]);
    await t.database.db.deleteFrom('items').where('repo', '=', 'npm').where('path', 'like', '.npm/@s%').execute();
    expect((await npmRows('npm')).map((r) => r.path)).toEqual(['.npm/a']);
    await t.database.db.deleteFrom('items').where('repo', '=', 'npm').execute();
    expect(await npmRows('npm')).toEqual([]);
  });
});
