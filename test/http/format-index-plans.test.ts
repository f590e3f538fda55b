import { createHash } from 'node:crypto';
import { sql, type Compilable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKey } from '../../src/db/items.js';
import { imagesQuery, tagCandidatesQuery } from '../../src/formats/oci/service/discovery.js';
import { candidatesQuery, emptyRowsQuery } from '../../src/formats/npm/service/npm-search-index.js';
import { parseSearchQuery } from '../../src/formats/npm/search.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import type { PlanNode } from '../helpers/plans.js';

/**
 * The queries on the format indexes of migration 0013, explained on PostgreSQL over tables big
 * enough that the planner reads them as it would in production (tens of thousands of rows):
 * each is served by its index and reads about as many rows as it returns. (query-plans.test.ts
 * runs the same code paths through HTTP on a smaller repository.)
 */


function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

const PACKAGES = 60_000;
/** Package names as varied as real ones: `lib-` and twelve hex digits. */
const word = (i: number) => `lib-${createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}`;
const IMAGES = 20_000;
const DIGESTS = 3_000;

describe('format index query plans on PostgreSQL', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await openTestDatabase('postgresql');
    const db = t.database.db;
    // Package documents as items (the triggers add their empty rows), then the rows filled, but every 200th.
    const base = { size: 0, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1 };
    const docs = Array.from({ length: PACKAGES }, (_, i) => {
      const repo = i % 10 === 9 ? 'npm-b' : 'npm-a';
      const path = `.npm/${i % 10 === 0 ? `@s${i % 7}/${word(i)}` : word(i)}`;
      return { ...base, type: 'file' as const, sha1: 'f'.repeat(40), repo, path, name: 'package.json', path_key: pathKey(repo, `${path}/package.json`) };
    });
    for (let i = 0; i < docs.length; i += 1000) await db.insertInto('items').values(docs.slice(i, i + 1000)).execute();
    await sql`update npm_search s set listed = 1, doc_sha1 = i.sha1, name = substr(i.path, 6), name_lc = substr(i.path, 6),
                search_lc = substr(i.path, 6) || chr(10) || 'kw-' || (i.id % 100) || chr(10) || 'a package numbered ' || i.id || ' for tests',
                match_json = '{}', entry = '{}'
              from items i where i.id = s.item_id and i.id % 200 <> 0`.execute(db);
    const images = Array.from({ length: IMAGES }, (_, i) => ({ repo: i % 2 === 0 ? 'oci-a' : 'oci-b', image: `team-${i % 50}/img-${i}` }));
    for (let i = 0; i < images.length; i += 1000) await db.insertInto('oci_images').values(images.slice(i, i + 1000)).execute();
    // One image with many manifests by digest and a few tags (folders below the image folder).
    const children = [
      ...Array.from({ length: DIGESTS }, (_, i) => `sha256:${String(i).padStart(64, '0')}`),
      ...['latest', 'v1', 'v2', 'zz'],
    ].map((name) => ({ ...base, type: 'folder' as const, repo: 'oci-a', path: 'big', name, path_key: pathKey('oci-a', `big/${name}`) }));
    for (let i = 0; i < children.length; i += 1000) await db.insertInto('items').values(children.slice(i, i + 1000)).execute();
    await sql`analyze`.execute(db);
  }, 120_000);
  afterAll(async () => t?.drop());

  async function plan(q: Compilable): Promise<PlanNode[]> {
    const c = q.compile();
    const res = await sql.raw(`explain (analyze, format json) ${c.sql.replace(/\$(\d+)/g, (_, n) => literal(c.parameters[Number(n) - 1]))}`).execute(t.database.db);
    return flatten((res.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0].Plan);
  }
  const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  const read = (nodes: PlanNode[], rel: string) =>
    nodes.filter((n) => n['Relation Name'] === rel).reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
  const seqScans = (nodes: PlanNode[]) => nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
  const indexes = (nodes: PlanNode[]) => nodes.map((n) => n['Index Name']).filter((n) => n !== undefined);

  it('npm search by a term reads the trigram index, not the repository', async () => {
    const nodes = await plan(candidatesQuery(t.database.db, ['npm-a'], parseSearchQuery({ text: word(1234).slice(2) })));
    expect(seqScans(nodes)).toEqual([]);
    expect(indexes(nodes)).toContain('npm_search_trgm');
    expect(read(nodes, 'npm_search')).toBeLessThan(200);
  });

  it('npm search by scope reads a range of the name index', async () => {
    const nodes = await plan(candidatesQuery(t.database.db, ['npm-a'], parseSearchQuery({ text: 'scope:s3' })));
    expect(seqScans(nodes)).toEqual([]);
    expect(indexes(nodes)).toContain('npm_search_name');
    expect(read(nodes, 'npm_search')).toBeLessThan(PACKAGES / 40);
  });

  it('the rows a search fills first come from the index of empty rows', async () => {
    const nodes = await plan(emptyRowsQuery(t.database.db, 'npm-a', 200));
    expect(seqScans(nodes)).toEqual([]);
    expect(indexes(nodes)).toContain('npm_search_stale');
    expect(read(nodes, 'npm_search')).toBeLessThanOrEqual(PACKAGES / 200);
  });

  it('a catalogue page reads as many images as it returns, in key order', async () => {
    const nodes = await plan(imagesQuery(t.database.db, 'oci-a', 'team-3/img-5', 101));
    expect(seqScans(nodes)).toEqual([]);
    expect(nodes.map((n) => n['Node Type'])).not.toContain('Sort');
    expect(read(nodes, 'oci_images')).toBeLessThanOrEqual(101);
  });

  it('a tags list page steps around the digest folders of its image', async () => {
    for (const [lo, hi] of [
      [undefined, 'sha256:'],
      ['sha256;', 'sha512:'],
      ['sha512;', undefined],
    ] as const) {
      const nodes = await plan(tagCandidatesQuery(t.database.db, 'oci-a', 'big', lo, hi, undefined, 11));
      expect(seqScans(nodes)).toEqual([]);
      expect(indexes(nodes)).toContain('items_tree');
      expect(read(nodes, 'items')).toBeLessThanOrEqual(11);
    }
  });
});
