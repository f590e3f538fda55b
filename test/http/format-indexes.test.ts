import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKey } from '../../src/db/items.js';
import { escapeName } from '../../src/formats/npm/names.js';
import type { PackageDocument } from '../../src/formats/npm/packument.js';
import { matchDocument, parseSearchQuery, searchPage } from '../../src/formats/npm/search.js';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_AUTH, startTestNode, type TestNode } from '../helpers/node-context.js';
import { json, nodeTarget, OciClient } from './oci-client.js';

/**
 * The format indexes of migration 0013 stay exact through every way packages and images
 * change (publish, dist-tags, unpublish, generic deploys and deletes, repository deletes), and
 * the answers built on them are the answers the documents give: npm search against the
 * document-by-document match (formats/npm/search.ts), the OCI catalogue and tag lists against
 * the images and tags pushed, page by page.
 */
describe.each(DIALECTS)('format indexes on %s', (dialect) => {
  let node: TestNode;
  const REPO = 'npm-ix';
  const API = `/artifactory/api/npm/${REPO}`;
  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    node.request({
      method,
      url,
      headers: { authorization: ADMIN_AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const publish = async (name: string, version: string, extra: Record<string, unknown> = {}) =>
    expect((await call('PUT', `${API}/${escapeName(name)}`, publishBody(packPackage({ name, version, ...extra })))).statusCode).toBe(201);
  const search = async (text: string, size = 20, from = 0) => (await call('GET', `${API}/-/v1/search?text=${encodeURIComponent(text)}&size=${size}&from=${from}`)).json();
  const searchNames = async (text: string) => (await search(text, 250)).objects.map((o: { package: { name: string } }) => o.package.name);

  /** The answer the documents themselves give (the match before the index), for `names`. */
  async function expected(names: string[], text: string, size: number, from: number) {
    const q = parseSearchQuery({ text, size: String(size), from: String(from) });
    const docs: PackageDocument[] = [];
    for (const n of names) docs.push((await call('GET', `${API}/${escapeName(n)}?write=true`)).json());
    const matches = docs.map((d) => matchDocument(d, q, `http://localhost:80${API}/${escapeName(d.name)}`)).filter((m) => m !== undefined);
    return searchPage(matches, q);
  }

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const [key, packageType] of [[REPO, 'npm'], ['oci-a', 'docker'], ['oci-b', 'docker'], ['generic-x', 'generic']]) {
      expect((await call('PUT', `/artifactory/api/repositories/${key}`, { rclass: 'local', packageType })).statusCode).toBe(200);
    }
  }, 60_000);
  afterAll(async () => node?.close());

  it('npm search answers as the documents do, and follows publish, dist-tags and unpublish', async () => {
    await publish('alpha', '1.0.0', { description: 'The First package', keywords: ['Tools', 'cli'] });
    await publish('alpha', '1.1.0', { description: 'The first package, improved', keywords: ['tools'] });
    await publish('beta-tools', '0.1.0', { description: 'helpers for alpha users', author: 'Ann <ann@x>' });
    await publish('@scope/gamma', '2.0.0', { description: 'scoped', keywords: ['tools'] });
    await publish('delta', '1.0.0', { description: 'nothing alike' });
    const all = ['alpha', 'beta-tools', '@scope/gamma', 'delta'];
    for (const [text, size, from] of [
      ['alpha', 20, 0],
      ['tools', 20, 0],
      ['tools', 1, 1],
      ['keywords:tools', 20, 0],
      ['scope:scope', 20, 0],
      ['author:ann', 20, 0],
      ['maintainer:admin first', 20, 0],
      ['a', 2, 1],
      ['nomatch', 20, 0],
      ['100%_', 20, 0],
    ] as const) {
      const answer = await search(text, size, from);
      const want = await expected(all, text, size, from);
      expect({ objects: answer.objects, total: answer.total }, text).toEqual(want);
    }
    expect(await searchNames('improved')).toEqual(['alpha']);
    // A dist-tag moved back: the latest version's fields answer.
    expect((await call('PUT', `${API}/-/package/alpha/dist-tags/latest`, '"1.0.0"')).statusCode).toBe(201);
    expect(await searchNames('improved')).toEqual([]);
    expect((await search('alpha')).objects[0].package.version).toBe('1.0.0');
    // Unpublish of the whole package.
    const rev = (await call('GET', `${API}/delta?write=true`)).json()._rev;
    expect((await call('DELETE', `${API}/delta/-rev/${rev}`)).statusCode).toBe(200);
    expect(await searchNames('nothing')).toEqual([]);
    expect(await rows(REPO)).toBe(3);
  });

  /** The npm_search rows of a repository. */
  const rows = async (repo: string) => Number((await node.ctx.database.db.selectFrom('npm_search').select((eb) => eb.fn.countAll().as('n')).where('repo', '=', repo).executeTakeFirstOrThrow()).n);

  it('npm search sees documents written past the npm API, and loses deleted ones', async () => {
    // Documents written straight into items, as a backup import or a copy writes them.
    expect((await call('PUT', '/artifactory/api/repositories/npm-copy', { rclass: 'local', packageType: 'npm' })).statusCode).toBe(200);
    const db = node.ctx.database.db;
    const source = async (name: string) => db.selectFrom('items').selectAll().where('path_key', '=', pathKey(REPO, `.npm/${name}/package.json`)).executeTakeFirstOrThrow();
    const beta = await source('beta-tools');
    const copyKey = pathKey('npm-copy', '.npm/beta-tools/package.json');
    const { id: _id, name_lc: _lc, ...values } = beta;
    await db.insertInto('items').values({ ...values, repo: 'npm-copy', path_key: copyKey }).execute();
    const copySearch = async (text: string) => (await call('GET', `/artifactory/api/npm/npm-copy/-/v1/search?text=${text}`)).json().objects.map((o: { package: { name: string } }) => o.package.name);
    expect(await copySearch('helpers')).toEqual(['beta-tools']);
    // Replaced in place by other content, then deleted.
    const alpha = await source('alpha');
    await db.updateTable('items').set({ sha1: alpha.sha1, sha256: alpha.sha256, md5: alpha.md5, size: alpha.size }).where('path_key', '=', copyKey).execute();
    expect(await copySearch('helpers')).toEqual([]);
    expect(await copySearch('first')).toEqual(['alpha']);
    await db.deleteFrom('items').where('path_key', '=', copyKey).execute();
    expect(await copySearch('first')).toEqual([]);
    expect(await rows('npm-copy')).toBe(0);
    // An unpublish through the storage API (the document's folder deleted).
    expect((await call('DELETE', `/artifactory/${REPO}/.npm/beta-tools`)).statusCode).toBe(204);
    expect(await searchNames('helpers')).toEqual([]);
    // A repository delete takes its rows along.
    expect(await rows(REPO)).toBe(2);
    expect((await call('DELETE', `/artifactory/api/repositories/${REPO}`)).statusCode).toBe(200);
    expect(await rows(REPO)).toBe(0);
  });

  const images = async (repo: string) => (await node.ctx.database.db.selectFrom('oci_images').select('image').where('repo', '=', repo).orderBy('image').execute()).map((r) => r.image);

  /** Every page of a listing at `n` per page, following the Link headers. */
  async function pages(url: string, key: 'repositories' | 'tags'): Promise<string[][]> {
    const out: string[][] = [];
    let next: string | undefined = url;
    for (let i = 0; next && i < 50; i++) {
      const res = await call('GET', next);
      expect(res.statusCode, res.body).toBe(200);
      out.push(res.json()[key]);
      next = /<([^>]+)>; rel="next"/.exec(String(res.headers.link ?? ''))?.[1];
    }
    return out;
  }

  it('OCI catalogue and tag lists page the images and tags pushed, and follow deletes', async () => {
    const a = new OciClient(nodeTarget(node, 'oci-a'), 'oci-a');
    const b = new OciClient(nodeTarget(node, 'oci-b'), 'oci-b');
    for (const tag of ['v1', 'v2', 'latest', 'sha256', 'v10']) await a.pushImage('lib/app', tag, { layers: [`layer ${tag}`] });
    await a.pushImage('lib/app/sub', 'v1');
    await a.pushImage('zeta', 'v1');
    await b.pushImage('app', 'v1');
    // A generic repository with the same layout is not in the catalogue.
    expect((await call('PUT', `/artifactory/generic-x/img/sha256:${'a'.repeat(64)}/manifest.json`, '{}')).statusCode).toBe(201);

    const catalog = ['oci-a/lib/app', 'oci-a/lib/app/sub', 'oci-a/zeta', 'oci-b/app'];
    expect(json(await nodeTarget(node, '').request('GET', '/v2/_catalog')).repositories).toEqual(catalog);
    expect(await pages('/v2/_catalog?n=1', 'repositories')).toEqual(catalog.map((c) => [c]));
    expect(await pages('/v2/_catalog?n=3', 'repositories')).toEqual([catalog.slice(0, 3), catalog.slice(3)]);
    expect((await call('GET', '/v2/_catalog?n=2&last=oci-a/lib/app/sub')).json().repositories).toEqual(['oci-a/zeta', 'oci-b/app']);
    expect(await pages('/artifactory/api/docker/oci-a/v2/_catalog?n=2', 'repositories')).toEqual([['lib/app', 'lib/app/sub'], ['zeta']]);

    const tags = ['latest', 'sha256', 'v1', 'v10', 'v2'];
    expect((await call('GET', '/v2/oci-a/lib/app/tags/list')).json()).toEqual({ name: 'oci-a/lib/app', tags });
    expect(await pages('/v2/oci-a/lib/app/tags/list?n=2', 'tags')).toEqual([tags.slice(0, 2), tags.slice(2, 4), tags.slice(4)]);
    expect((await call('GET', '/v2/oci-a/lib/app/tags/list?n=10&last=sha256')).json().tags).toEqual(['v1', 'v10', 'v2']);

    // A tag deleted (its manifest through the storage API): gone from the list, the image stays.
    expect((await call('DELETE', '/artifactory/oci-a/lib/app/v10/manifest.json')).statusCode).toBe(204);
    expect((await call('GET', '/v2/oci-a/lib/app/tags/list')).json().tags).toEqual(['latest', 'sha256', 'v1', 'v2']);
    // Every manifest of an image deleted by digest: the image leaves the catalogue.
    const digests = (await node.ctx.database.db.selectFrom('items').select('name').where('repo', '=', 'oci-a').where('path', '=', 'zeta').where('name', 'like', 'sha256:%').execute()).map((r) => r.name);
    for (const d of digests) expect((await call('DELETE', `/v2/oci-a/zeta/manifests/${d}`)).statusCode).toBe(202);
    expect(await images('oci-a')).toEqual(['lib/app', 'lib/app/sub']);
    expect((await call('GET', '/v2/_catalog')).json().repositories).toEqual(['oci-a/lib/app', 'oci-a/lib/app/sub', 'oci-b/app']);
    // A folder delete through the storage API, and a repository delete.
    expect((await call('DELETE', '/artifactory/oci-a/lib/app/sub')).statusCode).toBe(204);
    expect(await images('oci-a')).toEqual(['lib/app']);
    expect((await call('DELETE', '/artifactory/api/repositories/oci-b')).statusCode).toBe(200);
    expect(await images('oci-b')).toEqual([]);
    expect((await call('GET', '/v2/_catalog')).json().repositories).toEqual(['oci-a/lib/app']);
  });

  it('backfills both indexes for what existed before migration 0013 (rows emptied, then a search fills them)', async () => {
    // What the migration's backfill leaves for an existing document: an empty row.
    await publish2('zed', '1.0.0');
    await node.ctx.database.db.updateTable('npm_search').set({ doc_sha1: null, listed: 0, name: null, name_lc: null, search_lc: null, match_json: null, entry: null }).execute();
    expect(await searchNames2('zed')).toEqual(['zed']);
    const key = pathKey('npm-late', '.npm/zed/package.json');
    const row = await node.ctx.database.db.selectFrom('npm_search').innerJoin('items', 'items.id', 'npm_search.item_id').select(['npm_search.doc_sha1', 'items.sha1']).where('items.path_key', '=', key).executeTakeFirstOrThrow();
    expect(row.doc_sha1).toBe(row.sha1);
  });

  const publish2 = async (name: string, version: string) => {
    if ((await call('GET', '/artifactory/api/repositories/npm-late')).statusCode !== 200) {
      expect((await call('PUT', '/artifactory/api/repositories/npm-late', { rclass: 'local', packageType: 'npm' })).statusCode).toBe(200);
    }
    expect((await call('PUT', `/artifactory/api/npm/npm-late/${name}`, publishBody(packPackage({ name, version })))).statusCode).toBe(201);
  };
  const searchNames2 = async (text: string) => (await call('GET', `/artifactory/api/npm/npm-late/-/v1/search?text=${text}`)).json().objects.map((o: { package: { name: string } }) => o.package.name);
});
