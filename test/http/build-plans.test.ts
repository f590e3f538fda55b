import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKey } from '../../src/db/items.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { planText, recording, type PlanNode } from '../helpers/plans.js';

/**
 * Issue 15, item 6: the build index answers in proportion to what it returns. A node on
 * PostgreSQL gets 2,000 build runs (100 names × 20 numbers, 10 artifacts and 5 dependencies
 * each) and 30,000 files inserted directly, then ANALYZE; each build operation runs through
 * its HTTP route while the statements sent are recorded and explained (ANALYZE), and fails
 * when a plan reads items, builds or build_entries with a sequential scan or filters away
 * more than FILTERED_LIMIT rows (the rule of query-plans.test.ts).
 */

const FILTERED_LIMIT = 500;
const WATCHED = new Set(['items', 'item_props', 'builds', 'build_entries']);
const NAMES = 100;
const NUMBERS = 20;
const ARTIFACTS = 10;
const DEPENDENCIES = 5;
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

function problems(node: PlanNode): string[] {
  const out: string[] = [];
  const rel = node['Relation Name'];
  if (rel && WATCHED.has(rel)) {
    if (node['Node Type'] === 'Seq Scan') out.push(`Seq Scan on ${rel}`);
    const removed = ((node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1);
    if (removed > FILTERED_LIMIT) out.push(`${node['Node Type']} on ${rel} filters out ${removed} rows`);
  }
  for (const child of node.Plans ?? []) out.push(...problems(child));
  return out;
}

describe('build index query plans on PostgreSQL', () => {
  let node: TestNode;
  let admin: pg.Client;
  const file = (repo: string, path: string, name: string, sum: string | null, type: 'file' | 'folder' = 'file') => ({
    path_key: pathKey(repo, path === '' ? name : `${path}/${name}`),
    repo,
    path,
    name,
    type,
    sha1: sum,
    sha256: null,
    md5: null,
    size: 10,
    created: 1,
    created_by: 'fill',
    modified: 1,
    modified_by: 'fill',
    updated: 1,
  });

  beforeAll(async () => {
    node = await startTestNode('postgresql');
    const db = node.ctx.database.db;
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/bp-dev', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    // One real build (creates the build-info repository), the rest inserted directly.
    const real = { name: 'real', number: '1', started: '2026-01-01T00:00:00.000+0000', modules: [{ id: 'm', artifacts: [{ name: 'a-0-0-0.bin', sha1: sha1('a-0-0-0') }] }] };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/build', payload: JSON.stringify(real) })).statusCode).toBe(204);
    const items = [];
    for (let n = 0; n < NAMES; n++) {
      items.push(file('artifactory-build-info', '', `b-${n}`, null, 'folder'));
      for (let k = 0; k < NUMBERS; k++) items.push(file('artifactory-build-info', `b-${n}`, `${k}-${1000 + k}.json`, sha1(`json-${n}-${k}`)));
    }
    for (let n = 0; n < NAMES; n++) {
      items.push(file('bp-dev', '', `d-${n}`, null, 'folder'));
      for (let k = 0; k < NUMBERS; k++) for (let a = 0; a < ARTIFACTS + DEPENDENCIES; a++) items.push(file('bp-dev', `d-${n}`, `a-${n}-${k}-${a}.bin`, sha1(`a-${n}-${k}-${a}`)));
    }
    for (let i = 0; i < items.length; i += 500) await db.insertInto('items').values(items.slice(i, i + 500)).execute();
    const ids = await db.selectFrom('items').select(['id', 'path', 'name']).where('repo', '=', 'artifactory-build-info').where('type', '=', 'file').where('path', '<>', 'real').execute();
    const builds = ids.map((r) => {
      const k = Number(r.name.split('-')[0]);
      return { item_id: Number(r.id), repo: 'artifactory-build-info', name: r.path, number: String(k), started: '2026-01-01T00:00:00.000+0000', started_ms: 1000 + k, status: null };
    });
    for (let i = 0; i < builds.length; i += 500) await db.insertInto('builds').values(builds.slice(i, i + 500)).execute();
    const entries = builds.flatMap((b) => {
      const n = Number(b.name.slice(2));
      return Array.from({ length: ARTIFACTS + DEPENDENCIES }, (_, a) => ({
        item_id: b.item_id,
        kind: (a < ARTIFACTS ? 'artifact' : 'dependency') as 'artifact' | 'dependency',
        module: b.name,
        name: `a-${n}-${b.number}-${a}.bin`,
        type: 'bin',
        scopes: null,
        sha1: sha1(`a-${n}-${b.number}-${a}`),
      }));
    });
    for (let i = 0; i < entries.length; i += 500) await db.insertInto('build_entries').values(entries.slice(i, i + 500)).execute();
    // The CLI's uploads mark each file with its build.
    const files = await db.selectFrom('items').select(['id', 'name']).where('repo', '=', 'bp-dev').where('type', '=', 'file').execute();
    const props = files.flatMap((f) => {
      const [, n, k] = f.name.split('-');
      return [
        { item_id: Number(f.id), prop_key: 'build.name', prop_value: `b-${n}` },
        { item_id: Number(f.id), prop_key: 'build.number', prop_value: k },
      ];
    });
    for (let i = 0; i < props.length; i += 500) await db.insertInto('item_props').values(props.slice(i, i + 500)).execute();
    const url = /^url=(.*)$/m.exec(readFileSync(join(node.home, 'etc', 'db.properties'), 'utf8'))![1];
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('analyze');
  }, 300_000);

  afterAll(async () => {
    await admin?.end();
    await node?.close();
  });

  async function expectIndexed(work: () => Promise<void>): Promise<void> {
    const statements = (await recording(work)).filter((r) => /^\s*select\b/i.test(r.text) && /\b(items|builds|build_entries)\b/.test(r.text));
    expect(statements.length).toBeGreaterThan(0);
    const report: string[] = [];
    for (const s of statements) {
      const res = await admin.query(`explain (analyze, format json) ${s.text}`, s.values);
      const plan = (res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan;
      const found = problems(plan);
      if (found.length > 0) report.push(`${s.text}\n  ${JSON.stringify(s.values)}\n  ${found.join('\n  ')}\n${planText(plan)}`);
    }
    expect(report, report.join('\n\n')).toEqual([]);
  }

  const call = (method: string, url: string, status: number, check?: (body: string) => void, payload?: unknown) => async () => {
    const res = await node.request({ method: method as 'GET', url, payload: payload as string });
    expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(status);
    check?.(res.body);
  };
  const aql = (query: string, results: number) => call('POST', '/artifactory/api/search/aql', 200, (body) => expect(JSON.parse(body).results).toHaveLength(results), query);

  const CASES: [string, () => Promise<void>][] = [
    ['the runs of a build name', call('GET', '/artifactory/api/build/b-42', 200, (b) => expect(JSON.parse(b).buildsNumbers).toHaveLength(NUMBERS))],
    ['one run (the index row; its item is read after)', call('GET', '/artifactory/api/build/b-42/7', 404)],
    ['AQL: the artifacts of a build, as download --build asks', aql('items.find({"$or":[{"$and":[{"artifact.module.build.name":"b-42","artifact.module.build.number":"7"}]}]}).include("name","repo","path","actual_sha1")', ARTIFACTS)],
    ['AQL: the dependencies of a build', aql('items.find({"$or":[{"$and":[{"dependency.module.build.name":"b-42","dependency.module.build.number":"7"}]}]})', DEPENDENCIES)],
    ['AQL: build artifacts with the build.name property', aql('items.find({"$and":[{"$or":[{"$and":[{"artifact.module.build.name":"b-42","artifact.module.build.number":"7"}]}]},{"$or":[{"@build.name":"b-42"}]}]})', ARTIFACTS)],
    ['the build-artifacts look-up (the real build)', call('GET', '/artifactory/api/builds/buildArtifacts/real/1/artifactory-build-info', 200)],
    ['retention of a name (a dry one: nothing older than the date)', call('POST', '/artifactory/api/build/retention/b-43', 204, undefined, { minimumBuildDate: 1 })],
  ];
  for (const [name, work] of CASES) it(name, () => expectIndexed(work));
});
