import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDocument, signLicense, type LicenseType } from '../../src/cluster/licenses/license-key.js';
import type { LicenseEntry } from '../../src/cluster/licenses/license-pool.js';
import { FakeClock } from '../../src/core/clock.js';
import { startCluster, within, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { basic } from '../helpers/credentials.js';
import { DIALECTS } from '../helpers/databases.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const PUBLIC_B64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const PATH = '/artifactory/api/system/licenses';
const JSON_HEADERS = { 'content-type': 'application/json' };

/** A key valid for `days` days from START. */
function key(days: number, to = 'ACME Corp', type: LicenseType = 'Enterprise'): string {
  return signLicense(newDocument(to, type, new Date(START + (days - 1) * DAY).toISOString().slice(0, 10), START), privateKey);
}

async function list(n: ClusterNode): Promise<LicenseEntry[]> {
  const r = await n.request({ url: PATH });
  expect(r.statusCode).toBe(200);
  return r.json().licenses;
}

async function holderOf(n: ClusterNode, hash: string): Promise<string | undefined> {
  return (await list(n)).find((l) => l.licenseHash === hash)?.nodeId;
}

async function ping(n: ClusterNode) {
  return n.request({ url: '/artifactory/api/system/ping', headers: { authorization: '' } });
}

describe.each(DIALECTS)('the Cluster License Manager of three nodes on %s', (dialect) => {
  let cluster: TestCluster;
  const clock = new FakeClock(START);
  const boot = key(100, 'Bootstrap Inc');
  const [p1, p2] = [key(300), key(200, 'ACME Corp', 'Trial')];
  const hashOf = new Map<string, string>();

  /**
   * Moves the fake clock, the first `live` nodes' heartbeats moving with it (written first, so
   * a check running meanwhile in the background never sees them stale).
   */
  const jump = async (ms: number, live = 3) => {
    const at = clock.now() + ms;
    const ids = cluster.nodes.slice(0, live).map((n) => n.id);
    await cluster.nodes[0].ctx.database.db.updateTable('cluster_nodes').set({ last_heartbeat: at }).where('server_id', 'in', ids).execute();
    clock.advance(ms);
  };

  beforeAll(async () => {
    cluster = await startCluster(dialect, 3, {
      clock,
      // Checks run when the pool changes (and when a test asks), not on a timer.
      env: { ARCA_LICENSE_PUBLICKEY: PUBLIC_B64, ARCA_LICENSE_CHECKINTERVALSECS: '3600', ARCA_PROPAGATION_POLLINTERVALMS: '200' },
      nodeEnv: (i) => ({ ARCA_SHARED_NODE_CONTEXTURL: `http://10.1.16.${23 + i}:8081/artifactory` }),
      prepare: (i, home) => {
        if (i === 0) writeFileSync(join(home, 'etc', 'artifactory.cluster.license'), `${boot}\n`);
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('the primary imports etc/artifactory.cluster.license and takes that license; the others start unlicensed and ping 503', async () => {
    const [a, b, c] = cluster.nodes;
    expect(existsSync(join(a.home, 'etc', 'artifactory.cluster.license'))).toBe(false);
    expect(existsSync(join(a.home, 'etc', 'artifactory.cluster.license.imported'))).toBe(true);
    const entries = await list(b);
    expect(entries).toEqual([
      {
        type: 'Enterprise',
        validThrough: 'Apr 10, 2026',
        licensedTo: 'Bootstrap Inc',
        licenseHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        nodeId: 'node-1',
        nodeUrl: 'http://10.1.16.23:8081/artifactory',
        expired: false,
        licenseId: expect.any(String),
        validThroughDate: '2026-04-10',
      },
    ]);
    hashOf.set('boot', entries[0].licenseHash);
    expect((await ping(a)).body).toBe('OK');
    for (const n of [b, c]) {
      const r = await ping(n);
      expect(r.statusCode).toBe(503);
      expect(r.body).toContain(`node '${n.id}' needs a license and the cluster license pool has none free`);
      // Balancers probe readiness: an unlicensed node keeps serving, so licenses can be added through it.
      expect((await n.request({ url: '/artifactory/api/v1/system/readiness', headers: { authorization: '' } })).statusCode).toBe(200);
    }
    const v = await a.request({ url: '/artifactory/api/system/version' });
    expect(v.json().license).toBe(hashOf.get('boot'));
    expect((await b.request({ url: '/artifactory/api/system/version' })).json().license).toBeUndefined();
    const meta = (await c.request({ url: PATH })).json().licenseManager;
    expect(meta).toEqual({ enabled: true, nodeId: 'node-3', nodeLicense: null, expiryWindowDays: 7 });
  });

  it('POST installs several keys from one licenseKey (newlines, spaces, semicolons); the waiting nodes take them', async () => {
    const [a, b, c] = cluster.nodes;
    const payload = JSON.stringify([{ licenseKey: `${p1}\n ${p2};not-a-key` }]);
    const r = await b.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      status: 200,
      messages: { [p1]: 'OK', [p2]: 'OK', 'not-a-key': 'Not a license key (expected arca1.<document>.<signature>)' },
    });
    // b checked at once (it took the latest expiry); c hears of the change through the database.
    const entries = await list(a);
    hashOf.set('p1', entries.find((e) => e.validThroughDate === '2026-10-27')!.licenseHash);
    hashOf.set('p2', entries.find((e) => e.type === 'Trial')!.licenseHash);
    expect(await holderOf(a, hashOf.get('p1')!)).toBe('node-2');
    await within(20_000, async () => (await holderOf(a, hashOf.get('p2')!)) === 'node-3');
    for (const n of [a, b, c]) expect((await ping(n)).body).toBe('OK');
    expect((await list(c)).map((e) => [e.nodeId, e.nodeUrl, e.validThrough])).toEqual([
      ['node-2', 'http://10.1.16.24:8081/artifactory', 'Oct 27, 2026'],
      ['node-3', 'http://10.1.16.25:8081/artifactory', 'Jul 19, 2026'],
      ['node-1', 'http://10.1.16.23:8081/artifactory', 'Apr 10, 2026'],
    ]);
  });

  it('refuses bad POST bodies in the JFrog error shape, keys all refused with 400, and non-admins', async () => {
    const a = cluster.nodes[0];
    for (const payload of ['{}', '[{"licenseKey": 5}]', '[]', '[{"licenseKey": " ;\\n"}]', '"x"']) {
      const r = await a.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload });
      expect(r.statusCode, payload).toBe(400);
      expect(r.json().errors[0].message, payload).toMatch(/licenseKey|No license key/);
    }
    const text = await a.request({ method: 'POST', url: PATH, headers: { 'content-type': 'text/plain' }, payload: `${p1} ${p2}` });
    expect(text.json()).toEqual({ status: 200, messages: { [p1]: 'OK', [p2]: 'OK' } });
    const bad = await a.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload: JSON.stringify({ licenseKey: 'arca1.abc.def' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ status: 400, messages: { 'arca1.abc.def': 'The license signature does not match the configured license public key' } });
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      const r = await a.request({ method, url: `${PATH}?licenseHash=x`, headers: { authorization: '', ...JSON_HEADERS }, payload: method === 'POST' ? '[]' : undefined });
      expect(r.statusCode, method).toBe(401);
    }
    const put = await a.request({ method: 'PUT', url: '/artifactory/api/security/users/bob', payload: { email: 'bob@example.com', password: 'Bob-Passw0rd!' } });
    expect(put.statusCode).toBe(201);
    const bob = { authorization: basic('bob', 'Bob-Passw0rd!'), ...JSON_HEADERS };
    expect((await a.request({ url: PATH, headers: bob })).statusCode).toBe(403);
    expect((await a.request({ method: 'POST', url: PATH, headers: bob, payload: JSON.stringify([{ licenseKey: key(9) }]) })).statusCode).toBe(403);
    expect((await list(a)).length).toBe(3);
  });

  it('DELETE: a free license goes; one in use without an alternative is refused; with one, its node switches', async () => {
    const [a, b] = cluster.nodes;
    const none = await a.request({ method: 'DELETE', url: PATH });
    expect(none.statusCode).toBe(400);
    expect(none.json().errors[0].message).toContain('licenseHash');
    const refused = await a.request({ method: 'DELETE', url: `${PATH}?licenseHash=${hashOf.get('boot')},${'0'.repeat(64)}` });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      status: 400,
      messages: { [hashOf.get('boot')!]: "License is in use by node 'node-1' and no free license can replace it", ['0'.repeat(64)]: 'License not found' },
    });
    // A free one is deleted.
    const free = key(50, 'Spare');
    await b.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload: JSON.stringify([{ licenseKey: free }]) });
    const freeHash = (await list(a)).find((e) => e.licensedTo === 'Spare')!;
    expect(freeHash.nodeId).toBe('Not in use');
    const del = await a.request({ method: 'DELETE', url: `${PATH}?licenseHash=${freeHash.licenseHash}` });
    expect(del.json()).toEqual({ status: 200, messages: { [freeHash.licenseHash]: 'OK' } });
    expect((await list(a)).some((e) => e.licensedTo === 'Spare')).toBe(false);
    // With a free alternative, the license in use goes and node-1 switches to the alternative.
    const alt = key(400, 'Later Ltd');
    await b.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload: JSON.stringify([{ licenseKey: alt }]) });
    const altHash = (await list(a)).find((e) => e.licensedTo === 'Later Ltd')!.licenseHash;
    hashOf.set('alt', altHash);
    const ok = await b.request({ method: 'DELETE', url: `${PATH}?licenseHash=${hashOf.get('boot')}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().messages[hashOf.get('boot')!]).toBe(`OK (node 'node-1' switched to license ${altHash})`);
    expect(await holderOf(b, altHash)).toBe('node-1');
    await within(20_000, async () => a.ctx.licenses.status().hash === altHash);
    expect((await ping(a)).body).toBe('OK');
  });

  it('a node swaps its license before it expires, when a later one is free', async () => {
    const [a, b, c] = cluster.nodes;
    const later = key(500, 'Swap Target');
    await a.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload: JSON.stringify([{ licenseKey: later }]) });
    const laterHash = (await list(a)).find((e) => e.licensedTo === 'Swap Target')!.licenseHash;
    await within(20_000, async () => (await holderOf(a, laterHash)) === 'Not in use');
    // p2 (200 days, held by node-3) is 7 days from its end.
    await jump(193 * DAY);
    for (const n of [a, b, c]) await n.ctx.licenses.check();
    expect(await holderOf(a, laterHash)).toBe('node-3');
    expect(await holderOf(a, hashOf.get('p2')!)).toBe('Not in use');
    expect(c.ctx.licenses.status().hash).toBe(laterHash);
    await c.ctx.licenses.check();
    expect(c.ctx.licenses.status()).toMatchObject({ hash: laterHash, outcome: 'kept' });
  });

  it('a stopping node returns its license; a killed node loses it after the stale period', async () => {
    const [a, , c] = cluster.nodes;
    const held = c.ctx.licenses.status().hash!;
    await c.ctx.registry.setState('STOPPED');
    await c.ctx.licenses.release();
    expect(await holderOf(a, held)).toBe('Not in use');
    const restarted = await cluster.restart(2);
    // The restarted node takes the free license with the latest expiry again.
    expect(restarted.ctx.licenses.status().hash).toBe(held);
    expect((await ping(restarted)).body).toBe('OK');
    // Killed: no more heartbeats from node-3; after 30 s its license shows as free.
    await jump(31_000, 2);
    expect(await holderOf(a, held)).toBe('Not in use');
    // …and can be deleted without an alternative.
    const del = await a.request({ method: 'DELETE', url: `${PATH}?licenseHash=${held}` });
    expect(del.json()).toEqual({ status: 200, messages: { [held]: 'OK' } });
  });
});

describe('the license manager off (no public key)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster('sqlite', 1, {
      prepare: (_i, home) => writeFileSync(join(home, 'etc', 'artifactory.cluster.license'), `${key(10)}\n`),
    });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('needs no license, says so on every endpoint, and leaves the bootstrap file alone', async () => {
    const [n] = cluster.nodes;
    expect((await ping(n)).body).toBe('OK');
    const get = await n.request({ url: PATH });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({ licenses: [], licenseManager: { enabled: false, message: expect.stringContaining('The license manager is off') } });
    const post = await n.request({ method: 'POST', url: PATH, headers: JSON_HEADERS, payload: JSON.stringify([{ licenseKey: key(10) }]) });
    expect(post.statusCode).toBe(409);
    expect(post.json().errors[0].message).toContain('no license public key is configured');
    const del = await n.request({ method: 'DELETE', url: `${PATH}?licenseHash=abc` });
    expect(del.statusCode).toBe(409);
    expect(existsSync(join(n.home, 'etc', 'artifactory.cluster.license'))).toBe(true);
  });
});
