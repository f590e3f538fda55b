import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../helpers/cluster-nodes.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic } from '../helpers/node-context.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { raw, type RawRequest } from '../helpers/raw-http.js';

const DEV = basic('dev', 'Dev-passw0rd!');
const jsonBody = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const READ_TARGET = { name: 'dev-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['rw-local'], actions: { users: { dev: ['read'] } } } };
/** Fresh connections per check: the cluster's round robin spreads them over the workers. */
const SPREAD = 6;

/**
 * Every worker keeps the files it served (services/serve/current-files.ts). A deploy answered
 * 201 by one worker (or node) must be what the very next GET answers on any other, with no
 * wait: warm every worker with the old bytes, deploy, then read at once on fresh connections.
 */
async function readAfterWrite(deployOn: string, readOn: string, rounds: number): Promise<void> {
  const path = '/artifactory/rw-local/hot/file.bin';
  const get = (base: string, req: Partial<RawRequest> = {}) => raw(base, { path, ...req });
  for (let i = 0; i < rounds; i++) {
    // Warm: several answers of the current version on every worker, fast path included.
    if (i > 0) for (const r of await Promise.all(Array.from({ length: SPREAD }, () => get(readOn)))) expect(r.status).toBe(200);
    const body = Buffer.from(`round ${i} `.repeat(40 + (i % 7)));
    expect((await get(deployOn, { method: 'PUT', body })).status).toBe(201);
    const reads = await Promise.all(Array.from({ length: SPREAD }, () => get(readOn)));
    for (const r of reads) {
      expect(r.status).toBe(200);
      expect(r.text()).toBe(body.toString());
    }
  }
  expect((await get(deployOn, { method: 'DELETE' })).status).toBe(204);
  for (const r of await Promise.all(Array.from({ length: SPREAD }, () => get(readOn)))) expect(r.status).toBe(404);
}

describe('download fast path: one node of two workers on SQLite', () => {
  let node: NodeProcess;
  const on = (req: RawRequest) => raw(node.url, req);

  beforeAll(async () => {
    node = await startNodeProcess({ workers: 2 });
    expect((await on({ method: 'PUT', path: '/artifactory/api/repositories/rw-local', ...jsonBody({ rclass: 'local', packageType: 'generic' }) })).status).toBe(200);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('answers a GET right after a 201 from another worker with the new bytes', async () => {
    await readAfterWrite(node.url, node.url, 25);
  });

  it('refuses a user on every worker within one poll period of the revocation, as without the fast path', async () => {
    expect((await on({ method: 'PUT', path: '/artifactory/api/security/users/dev', ...jsonBody({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).status).toBe(201);
    expect((await on({ method: 'POST', path: '/artifactory/api/v2/security/permissions/dev-read', ...jsonBody(READ_TARGET) })).status).toBe(201);
    expect((await on({ method: 'PUT', path: '/artifactory/rw-local/private.txt', body: 'dev only' })).status).toBe(201);
    const read = () => on({ path: '/artifactory/rw-local/private.txt', headers: { authorization: DEV } });
    // Granted on every worker (through the propagation), then served from the fast path.
    await within(3000, async () => (await Promise.all(Array.from({ length: SPREAD }, read))).every((r) => r.status === 200));
    for (const r of await Promise.all(Array.from({ length: SPREAD }, read))) expect(r.text()).toBe('dev only');
    expect((await on({ method: 'DELETE', path: '/artifactory/api/v2/security/permissions/dev-read' })).status).toBe(200);
    // The other worker learns of it on its next poll of the version table (1 s on SQLite), as
    // before the fast path; the rest is the requests' own time on a busy test machine.
    const ms = await within(3000, async () => (await Promise.all(Array.from({ length: SPREAD }, read))).every((r) => r.status === 404));
    expect(ms).toBeLessThan(3000);
  });
});

/** Creates user dev with read on rw-local/private.txt through node `on`, and reads it through `readOn` until every worker answers. */
async function grantAndServe(on: string, readOn: string): Promise<() => Promise<{ status: number }[]>> {
  expect((await raw(on, { method: 'PUT', path: '/artifactory/api/security/users/dev', ...jsonBody({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).status).toBe(201);
  expect((await raw(on, { method: 'POST', path: '/artifactory/api/v2/security/permissions/dev-read', ...jsonBody(READ_TARGET) })).status).toBe(201);
  expect((await raw(on, { method: 'PUT', path: '/artifactory/rw-local/private.txt', body: 'dev only' })).status).toBe(201);
  const read = () => Promise.all(Array.from({ length: SPREAD }, () => raw(readOn, { path: '/artifactory/rw-local/private.txt', headers: { authorization: DEV } })));
  await within(3000, async () => (await read()).every((r) => r.status === 200));
  for (const r of await read()) expect(r.text()).toBe('dev only');
  return read;
}

/**
 * Two nodes of two workers on one external database. Each worker looks items up in one query
 * per event-loop turn (db/key-batch.ts); a deploy or delete on one node must still be what the
 * very next GET on the other answers, and a revoked permission must be refused there within
 * the propagation bound (docs/ha.md: 2 s).
 */
function twoNodes(dialect: 'postgresql' | 'mysql', name: string): void {
  describe.runIf(DIALECTS.includes(dialect))(`download fast path: two nodes of two workers on ${name}`, () => {
    let cluster: ProcessCluster;

    beforeAll(async () => {
      cluster = await startProcessCluster(2, { workers: 2, dialect });
      const [a, b] = cluster.nodes;
      expect((await raw(a.url, { method: 'PUT', path: '/artifactory/api/repositories/rw-local', ...jsonBody({ rclass: 'local', packageType: 'generic' }) })).status).toBe(200);
      // The repository reaches node B through the propagation.
      await within(5000, async () => (await raw(b.url, { path: '/artifactory/api/repositories/rw-local' })).status === 200);
    }, 90_000);
    afterAll(async () => {
      await cluster?.close();
    });

    it('answers a GET on node B right after a 201 on node A with the new bytes, and 404 right after a delete', async () => {
      const [a, b] = cluster.nodes;
      await readAfterWrite(a.url, b.url, 15);
    });

    it('answers many files read together, each with its own bytes, right after their deploys on the other node', async () => {
      const [a, b] = cluster.nodes;
      // Twelve files read at once on the same connections' workers: one batched lookup serves several.
      const paths = Array.from({ length: 12 }, (_, i) => `/artifactory/rw-local/many/f${i}.txt`);
      for (let round = 0; round < 4; round++) {
        await Promise.all(paths.map((path, i) => raw(a.url, { method: 'PUT', path, body: `r${round} f${i}` }).then((r) => expect(r.status).toBe(201))));
        const reads = await Promise.all(paths.flatMap((path) => [raw(b.url, { path }), raw(b.url, { path })]));
        reads.forEach((r, k) => {
          expect(r.status).toBe(200);
          expect(r.text()).toBe(`r${round} f${Math.floor(k / 2)}`);
        });
      }
      await Promise.all(paths.slice(0, 6).map((path) => raw(a.url, { method: 'DELETE', path })));
      const after = await Promise.all(paths.map((path) => raw(b.url, { path })));
      after.forEach((r, i) => expect(r.status).toBe(i < 6 ? 404 : 200));
    });

    it('refuses a user on the other node within the propagation bound of a revocation', async () => {
      const [a, b] = cluster.nodes;
      const read = await grantAndServe(a.url, b.url);
      expect((await raw(a.url, { method: 'DELETE', path: '/artifactory/api/v2/security/permissions/dev-read' })).status).toBe(200);
      const ms = await within(3000, async () => (await read()).every((r) => r.status === 404));
      // 2 s is the documented bound; the rest is the requests' own time on a busy machine.
      expect(ms).toBeLessThan(3000);
    });
  });
}

twoNodes('postgresql', 'PostgreSQL');
twoNodes('mysql', 'MariaDB/MySQL');
