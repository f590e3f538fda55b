import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Insertable } from 'kysely';
import { pathKey } from '../../src/db/items.js';
import type { Schema } from '../../src/db/schema.js';
import { searchItems } from '../../src/db/search-queries.js';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { MAX_SEARCH_RESULTS } from '../../src/services/search.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { planText, recording, type PlanNode, type Recorded } from '../helpers/plans.js';

/**
 * Issue 14: every hot listing and search is served by an index, in proportion to what it
 * returns. A real node on PostgreSQL gets a few tens of thousands of items inserted directly,
 * then ANALYZE; each operation below is run through its real code path (mostly an HTTP
 * request) while every statement the node sends to PostgreSQL is recorded, so the test
 * follows the code. Each recorded SELECT is explained with ANALYZE, each UPDATE/DELETE
 * without, and an operation fails when a plan
 * - reads items, item_props or binaries with a sequential scan, or
 * - throws away more than FILTERED_LIMIT rows of those tables after reading them (an index
 *   that narrows to the repository only, say, then a filter over all of it), or reads that
 *   many more index entries than rows it keeps (a BitmapAnd with the whole repository's
 *   entries).
 *
 * A new listing or search query belongs in CASES with the request that runs it.
 */

const FILTERED_LIMIT = 500;
const WATCHED = new Set(['items', 'item_props', 'binaries', 'npm_search', 'oci_images', 'archive_entries']);
/**
 * The format indexes of migration 0013 hold one row per package or image: a sequential scan of
 * them that keeps what it reads (a small table, or an answer that is the whole repository's
 * list) is in proportion to the answer; one that filters rows out is caught like any other.
 */
const PER_ANSWER = new Set(['npm_search', 'oci_images']);

const BIG_FOLDERS = 200; // × 50 files
const OTHER_FILES = 5_000;
const NPM_PACKAGES = 1_000;
const PYPI_PROJECTS = 500;
const OCI_IMAGES = 300;
const MAVEN_ARTIFACTS = 300;

/** The Bitmap Index Scans that feed a Bitmap Heap Scan (through BitmapAnd/BitmapOr). */
function bitmapInputs(node: PlanNode): PlanNode[] {
  return (node.Plans ?? []).flatMap((c) => (c['Node Type'] === 'Bitmap Index Scan' ? [c] : bitmapInputs(c)));
}

/** What is wrong with a plan (empty: every watched table is read through an index, in proportion). */
function planProblems(node: PlanNode): string[] {
  const out: string[] = [];
  const rel = node['Relation Name'];
  if (rel && WATCHED.has(rel)) {
    if (node['Node Type'] === 'Seq Scan' && !PER_ANSWER.has(rel)) out.push(`Seq Scan on ${rel}`);
    const loops = node['Actual Loops'] ?? 1;
    const kept = (node['Actual Rows'] ?? 0) * loops;
    const removed = ((node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
    if (removed > FILTERED_LIMIT) {
      out.push(`${node['Node Type']} on ${rel}${node['Index Name'] ? ` using ${node['Index Name']}` : ''} filters out ${removed} rows to keep ${kept}`);
    }
    // An index read for a BitmapAnd can cost as much as a filter: the entries it reads count.
    for (const input of node['Node Type'] === 'Bitmap Heap Scan' ? bitmapInputs(node) : []) {
      const read = (input['Actual Rows'] ?? 0) * (input['Actual Loops'] ?? 1);
      if (read - kept > FILTERED_LIMIT) out.push(`Bitmap Index Scan using ${input['Index Name']} reads ${read} entries to keep ${kept} rows of ${rel}`);
    }
  }
  for (const child of node.Plans ?? []) out.push(...planProblems(child));
  return out;
}

/** One plan line per node, indented, for the failure message. */

const hex = (s: string, alg = 'sha1') => createHash(alg).update(s).digest('hex');

describe('query plans on PostgreSQL', () => {
  let node: TestNode;
  let admin: pg.Client;

  async function insertAll<T extends 'items' | 'item_props' | 'binaries'>(table: T, rows: Insertable<Schema[T]>[]) {
    for (let i = 0; i < rows.length; i += 500) {
      // Folders the real uploads created already stay as they are.
      await node.ctx.database.db.insertInto(table).values(rows.slice(i, i + 500) as never).onConflict((oc) => oc.doNothing()).execute();
    }
  }

  function item(repo: string, fullPath: string, type: 'file' | 'folder', sums?: { sha1: string; sha256: string; md5: string }) {
    const i = fullPath.lastIndexOf('/');
    return {
      path_key: pathKey(repo, fullPath),
      repo,
      path: i < 0 ? '' : fullPath.slice(0, i),
      name: i < 0 ? fullPath : fullPath.slice(i + 1),
      type,
      sha1: sums?.sha1 ?? null,
      sha256: sums?.sha256 ?? null,
      md5: sums?.md5 ?? null,
      size: type === 'file' ? 10 : 0,
      created: 1,
      created_by: 'fill',
      modified: 1,
      modified_by: 'fill',
      updated: 1,
    };
  }

  /** Folders once each, then the files, for a set of file paths. */
  function tree(repo: string, files: string[], sums: (path: string) => { sha1: string; sha256: string; md5: string }) {
    const folders = new Set<string>();
    for (const f of files) for (let i = f.indexOf('/'); i >= 0; i = f.indexOf('/', i + 1)) folders.add(f.slice(0, i));
    return [...[...folders].map((f) => item(repo, f, 'folder')), ...files.map((f) => item(repo, f, 'file', sums(f)))];
  }

  const unique = (path: string) => ({ sha1: hex(path), sha256: hex(path, 'sha256'), md5: hex(path, 'md5') });

  beforeAll(async () => {
    node = await startTestNode('postgresql');
    for (const [key, packageType] of [['big', 'generic'], ['other', 'generic'], ['npm-local', 'npm'], ['pypi-local', 'pypi'], ['docker-local', 'docker'], ['maven-local', 'maven']]) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType } });
      expect(res.statusCode).toBe(200);
    }
    // Real content where the code reads it: an npm package (its document is parsed).
    const pkg = packPackage({ name: 'hello', version: '1.0.0', description: 'says hello' });
    const pub = await node.request({ method: 'PUT', url: '/artifactory/api/npm/npm-local/hello', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(publishBody(pkg)) });
    expect(pub.statusCode).toBe(201);
    const doc = await node.ctx.database.db.selectFrom('items').selectAll().where('path_key', '=', pathKey('npm-local', '.npm/hello/package.json')).executeTakeFirstOrThrow();
    const docSums = { sha1: doc.sha1!, sha256: doc.sha256!, md5: doc.md5! };

    // Generic: 200 folders of 50 files, properties on each file, a binary per file.
    const bigFiles: string[] = [];
    for (let f = 0; f < BIG_FOLDERS; f++) for (let j = 0; j < 50; j++) bigFiles.push(`f-${f}/file-${f * 50 + j}.bin`);
    const otherFiles = Array.from({ length: OTHER_FILES }, (_, i) => `g-${i % 100}/file-${i}.bin`);
    await insertAll('items', tree('big', bigFiles, unique));
    await insertAll('items', tree('other', otherFiles, unique));
    await insertAll('binaries', [...bigFiles.map((p) => ({ ...unique(p), size: 10, created: 1 }))]);
    const ids = await node.ctx.database.db.selectFrom('items').select(['id', 'name']).where('repo', '=', 'big').where('type', '=', 'file').execute();
    await insertAll(
      'item_props',
      ids.flatMap((r) => {
        const n = Number(/\d+/.exec(r.name)![0]);
        return [
          { item_id: r.id, prop_key: 'build.number', prop_value: String(n % 1000) },
          { item_id: r.id, prop_key: 'kind', prop_value: n % 2 === 0 ? 'even' : 'odd' },
        ];
      }),
    );

    // A real file where a download reads its content.
    expect((await node.request({ method: 'PUT', url: '/artifactory/big/f-7/real.txt', payload: 'real' })).statusCode).toBe(201);

    // npm: package documents (all the real one's content) and tarballs.
    const npmFiles: string[] = [];
    for (let i = 0; i < NPM_PACKAGES; i++) npmFiles.push(`.npm/pkg-${i}/package.json`, `pkg-${i}/-/pkg-${i}-1.0.0.tgz`, `pkg-${i}/-/pkg-${i}-1.0.1.tgz`);
    await insertAll('items', tree('npm-local', npmFiles, (p) => (p.endsWith('.json') ? docSums : unique(p))));

    // PyPI: {project}/{version}/{file}.
    const pypiFiles: string[] = [];
    for (let i = 0; i < PYPI_PROJECTS; i++) {
      for (const v of ['1.0', '1.1']) pypiFiles.push(`proj-${i}/${v}/proj_${i}-${v}-py3-none-any.whl`, `proj-${i}/${v}/proj_${i}-${v}.tar.gz`);
    }
    await insertAll('items', tree('pypi-local', pypiFiles, unique));

    // OCI: images with tag folders and digest folders, a manifest in each, and blob links.
    const ociFiles: string[] = [];
    for (let i = 0; i < OCI_IMAGES; i++) {
      for (let t = 0; t < 3; t++) {
        const digest = `sha256:${hex(`img-${i}-${t}`, 'sha256')}`;
        ociFiles.push(`img-${i}/v${t}/manifest.json`, `img-${i}/${digest}/manifest.json`, `img-${i}/_uploads/sha256__${hex(`blob-${i}-${t}`, 'sha256')}`);
      }
    }
    await insertAll('items', tree('docker-local', ociFiles, unique));

    // Maven: group/artifact/version/files.
    const mavenFiles: string[] = [];
    for (let i = 0; i < MAVEN_ARTIFACTS; i++) {
      for (const v of ['1.0', '1.1', '2.0']) for (const ext of ['jar', 'pom', 'jar.sha1', 'pom.sha1']) mavenFiles.push(`org/example/lib-${i}/${v}/lib-${i}-${v}.${ext}`);
      mavenFiles.push(`org/example/lib-${i}/maven-metadata.xml`);
    }
    await insertAll('items', tree('maven-local', mavenFiles, unique));

    // Archive entries (migration 0018): 20 entries of each binary of the big repository.
    const entries = bigFiles.flatMap((p, i) =>
      Array.from({ length: 20 }, (_, j) => {
        const name = i === 4242 && j === 0 ? 'Rare.special' : `C${j}.class`;
        return { sha1: hex(p), entry_path: `org/p${i % 100}`, entry_name: name, name_rev: [...name].reverse().join('') };
      }),
    );
    for (let i = 0; i < entries.length; i += 1000) await node.ctx.database.db.insertInto('archive_entries').values(entries.slice(i, i + 1000)).execute();

    const url = /^url=(.*)$/m.exec(readFileSync(join(node.home, 'etc', 'db.properties'), 'utf8'))![1];
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // ANALYZE samples 30,000 rows per table by default, fewer than these ~35,000 items, so the
    // histogram of name_lc (what the planner guesses a `%ile-123%` LIKE keeps) changed from run
    // to run, and with it the choice between the trigram index and a scan of this small table.
    // A larger target makes ANALYZE read every row: the same statistics every run.
    await admin.query('alter table items alter column name_lc set statistics 1000');
    await admin.query('analyze');
  }, 300_000);

  afterAll(async () => {
    await admin?.end();
    await node?.close();
  });

  async function explain(r: Recorded): Promise<PlanNode> {
    const select = /^\s*select\b/i.test(r.text);
    const res = await admin.query(`explain (${select ? 'analyze, ' : ''}format json) ${r.text}`, r.values);
    return (res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan;
  }

  /** Runs `work`, then checks the plan of every statement it sent that reads or changes the watched tables. */
  async function expectIndexed(work: () => Promise<void>): Promise<void> {
    const statements = (await recording(work)).filter((r) => /^\s*(select|update|delete)\b/i.test(r.text) && /\b(items|item_props|binaries|npm_search|oci_images|archive_entries)\b/.test(r.text));
    expect(statements.length, 'the operation reads the watched tables').toBeGreaterThan(0);
    const report: string[] = [];
    for (const s of statements) {
      const plan = await explain(s);
      if (process.env.ARCA_TEST_PRINT_PLANS) console.log(`${expect.getState().currentTestName}\n${s.text}\n${JSON.stringify(s.values)}\n${planText(plan)}\n`);
      const problems = planProblems(plan);
      if (problems.length > 0) report.push(`${s.text}\n  ${JSON.stringify(s.values)}\n  ${problems.join('\n  ')}\n${planText(plan)}`);
    }
    expect(report, report.join('\n\n')).toEqual([]);
  }

  const get = (url: string, status = 200) => async () => {
    const res = await node.request({ method: 'GET', url });
    expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(status);
  };

  const aql = (query: string, results: number) => async () => {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', headers: { 'content-type': 'text/plain' }, payload: query });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json().results, query).toHaveLength(results);
  };

  const CASES: [string, () => Promise<void>][] = [
    // Deep listings and what is built on them read the subtree as a path range of items_tree.
    ['deep listing of a 50-file folder', get('/artifactory/api/storage/big/f-40?list&deep=1')],
    ['npm search', get('/artifactory/api/npm/npm-local/-/v1/search?text=hello')],
    ['PyPI project page', get('/artifactory/api/pypi/pypi-local/simple/proj-7/')],
    ['a page of a folder', get('/artifactory/api/storage/big/f-40?limit=10')],
    ['lastModified of a folder (its subtree as a range)', get('/artifactory/api/storage/big/f-40?lastModified')],
    ['a page of a file list', get('/artifactory/api/storage/big/f-40?list&limit=20')],
    // Listings (src/db/items.ts). Add the deep, paged and streamed listings here as they land.
    ['children of a folder (storage info)', get('/artifactory/api/storage/big/f-123')],
    ['repository root at depth 1 (walkTree)', get('/artifactory/api/storage/big?list&deep=1&depth=1')],
    ['a folder at depth 2 (walkTree)', get('/artifactory/api/storage/big/f-17?list&deep=1&depth=2')],
    ['one item (the download lookup)', get('/artifactory/big/f-7/real.txt')],
    // Searches (src/db/search-queries.ts).
    [
      'name search, exact',
      async () => {
        const rows = await searchItems(node.ctx.database.db, 'postgresql', { repos: ['big', 'other'], filesOnly: true, name: 'FILE-123.bin', limit: MAX_SEARCH_RESULTS });
        expect(rows.length).toBe(2);
      },
    ],
    ['name search, prefix', get('/artifactory/api/search/artifact?name=file-123*')],
    ['name search, contains', get('/artifactory/api/search/artifact?name=ile-123')],
    ['name search, prefix in one repository', get('/artifactory/api/search/artifact?name=File-42*&repos=other')],
    ['checksum search, sha1', get(`/artifactory/api/search/checksum?sha1=${hex('f-3/file-170.bin')}`)],
    ['checksum search, sha256', get(`/artifactory/api/search/checksum?sha256=${hex('f-3/file-170.bin', 'sha256')}`)],
    ['checksum search, md5', get(`/artifactory/api/search/checksum?md5=${hex('f-3/file-170.bin', 'md5')}`)],
    ['property search', get('/artifactory/api/search/prop?build.number=123&repos=big')],
    ['property search, value prefix', get('/artifactory/api/search/prop?build.number=12*&repos=big')],
    ['property search, two keys', get('/artifactory/api/search/prop?build.number=123,124&kind=odd')],
    // Format indexes.
    ['npm packument', get('/artifactory/api/npm/npm-local/hello')],
    ['npm tarball (a version)', get('/artifactory/api/npm/npm-local/hello/-/hello-1.0.0.tgz')],
    ['PyPI root page', get('/artifactory/api/pypi/pypi-local/simple/')],
    ['OCI tags list', get('/v2/docker-local/img-7/tags/list')],
    ['OCI catalogue', get('/v2/_catalog')],
    // The format indexes of migration 0013 (the first npm search above filled the rows).
    ['npm search, by scope', get('/artifactory/api/npm/npm-local/-/v1/search?text=scope:nope')],
    ['OCI catalogue, a page after a name', get('/v2/_catalog?n=10&last=docker-local/img-50')],
    ['OCI tags list, a page', get('/v2/docker-local/img-7/tags/list?n=1&last=v0')],
    [
      'Maven metadata (regenerated by a deploy)',
      async () => {
        const res = await node.request({ method: 'PUT', url: '/artifactory/maven-local/org/example/lib-7/3.0/lib-7-3.0.jar', payload: 'jar bytes' });
        expect(res.statusCode, res.body).toBe(201);
      },
    ],
    // AQL (src/services/aql): the queries the JFrog CLI and cleanup scripts send.
    [
      'AQL, the CLI pattern big/f-40/*.bin (the folder and below)',
      aql(
        'items.find({"path":{"$ne":"."},"$or":[{"$and":[{"repo":"big","path":"f-40","name":{"$match":"*.bin"}}]},' +
          '{"$and":[{"repo":"big","path":{"$match":"f-40/*"},"name":{"$match":"*.bin"}}]}]})' +
          '.include("name","repo","path","actual_md5","actual_sha1","sha256","size","type","modified","created","property")',
        50,
      ),
    ],
    [
      'AQL, the CLI pattern with --exclusions "*file-2001*" (each exclusion triple kept when any part differs)',
      aql(
        'items.find({"path":{"$ne":"."},"$or":[{"path":{"$nmatch":"*"},"name":{"$nmatch":"*file-2001*"}}],"$or":[{"path":{"$nmatch":"*file-2001*"},"name":{"$nmatch":"*"}}],' +
          '"$or":[{"repo":{"$nmatch":"*file-2001*"},"path":{"$nmatch":"*"},"name":{"$nmatch":"*"}}],' +
          '"$or":[{"$and":[{"repo":"big","path":"f-40","name":{"$match":"*.bin"}}]},{"$and":[{"repo":"big","path":{"$match":"f-40/*"},"name":{"$match":"*.bin"}}]}]})' +
          '.include("name","repo","path","actual_md5","actual_sha1","sha256","size","type","modified","created")',
        49,
      ),
    ],
    [
      "AQL, the CLI's second query for properties after --sort-by/--limit (@* is any key)",
      aql(
        'items.find({"$and":[{"path":{"$ne":"."},"$or":[{"$and":[{"repo":"big","path":"f-40","name":{"$match":"*.bin"}}]},' +
          '{"$and":[{"repo":"big","path":{"$match":"f-40/*"},"name":{"$match":"*.bin"}}]}]},{"$or":[{"@*":{"$match":"*"}}]}]})' +
          '.include("name","repo","path","actual_md5","actual_sha1","sha256","size","property")',
        50,
      ),
    ],
    ['AQL, a file by name in every repository', aql('items.find({"name":"file-4242.bin"})', 2)],
    ['AQL, a property in every repository', aql('items.find({"@build.number":"123"}).include("repo","path","name","property")', 10)],
    ['AQL, a property pattern and a name pattern in one repository', aql('items.find({"repo":"big","@build.number":{"$match":"12*"},"name":{"$match":"file-1*"}})', 22)],
    ['AQL, a checksum', aql(`items.find({"actual_sha1":"${hex('f-3/file-170.bin')}"})`, 1)],
    ['AQL, the latest created in a folder (the CLI)', aql('items.find({"type":"file","repo":"big","path":{"$match":"f-41"}}).sort({"$desc":["created"]}).limit(1)', 1)],
    ['AQL, a page of a whole repository', aql('items.find({"repo":"other"}).offset(0).limit(20)', 20)],
    // Only the few items deployed through HTTP above are recent; the filled ones date from 1970.
    ['AQL, modified in the last day, in two repositories', aql('items.find({"$or":[{"repo":"big"},{"repo":"other"}],"modified":{"$last":"1d"}})', 1)],
    ['AQL, an archive entry by name', aql('items.find({"archive.entry.name":"Rare.special"})', 1)],
    ['AQL, an archive entry by suffix (the reversed-name index)', aql('items.find({"archive.entry.name":{"$match":"*.special"}})', 1)],
    ['AQL, an archive entry by path and name (the CLI)', aql('items.find({"$and":[{"repo":"big","path":{"$match":"*"},"name":{"$match":"*"},"archive.entry.path":"org/p42","archive.entry.name":{"$match":"Rare*"}}]})', 1)],
    ['AQL, created before a date in one repository, oldest first', aql('items.find({"repo":"other","created":{"$lte":"2000-01-01"}}).sort({"$asc":["created"]}).limit(10)', 10)],
    // The trash can (services/trash): a folder delete moves its rows, restore moves them back, the prune reads its entries by time.
    [
      'trash: delete of a 50-file folder (moved into auto-trashcan)',
      async () => {
        const res = await node.request({ method: 'DELETE', url: '/artifactory/big/f-90' });
        expect(res.statusCode, res.body).toBe(204);
      },
    ],
    ['trash: listing the trashed folder', get('/artifactory/api/storage/auto-trashcan/big/f-90?list&deep=1')],
    [
      'trash: restore of the folder',
      async () => {
        const res = await node.request({ method: 'POST', url: '/artifactory/api/trash/restore/big/f-90' });
        expect(res.statusCode, res.body).toBe(202);
      },
    ],
    [
      'trash: the trash-prune task (a trashed 50-file folder, expired)',
      async () => {
        expect((await node.request({ method: 'DELETE', url: '/artifactory/big/f-91' })).statusCode).toBe(204);
        await node.ctx.database.db.updateTable('trash_items').set((eb) => ({ trashed_at: eb('trashed_at', '-', 30 * 86_400_000) })).execute();
        const res = await node.request({ method: 'POST', url: '/artifactory/api/system/tasks/trash-prune/run?wait=60' });
        expect(res.json().status, res.body).toBe('SUCCEEDED');
      },
    ],
  ];

  for (const [name, work] of CASES) it(name, () => expectIndexed(work));
});
