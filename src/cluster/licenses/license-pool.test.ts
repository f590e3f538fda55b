import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import { FakeClock } from '../../core/clock.js';
import { openDatabase, type Database } from '../../db/database.js';
import { newDocument, signLicense, type LicenseType } from './license-key.js';
import { LicensePool, NOT_IN_USE } from './license-pool.js';

const DAY = 86_400_000;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const foreign = generateKeyPairSync('ed25519');

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

describe.each(DIALECTS)('the license pool in the database on %s', (dialect) => {
  let t: TestDatabase;
  const extra: Database[] = [];
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const pools: LicensePool[] = [];
  /** A key valid through `days` days from the clock's start (the last day counting fully). */
  const key = (days: number, to = 'ACME', type: LicenseType = 'Enterprise', signer = privateKey) =>
    signLicense(newDocument(to, type, isoDay(Date.UTC(2026, 0, 1) + (days - 1) * DAY), clock.now()), signer);

  const setNode = async (id: string, state: string, heartbeatAgoMs = 0) => {
    const db = t.database.db;
    const values = {
      instance_id: 'i',
      start_time: clock.now(),
      context_url: `http://${id}.example:8081/artifactory`,
      membership_port: 0,
      server_state: state,
      server_role: 'MEMBER',
      last_heartbeat: clock.now() - heartbeatAgoMs,
      version: '0.1.0',
      revision: 'r',
      release_date: 0,
      task_affinity: 'any',
      host: 'h',
      pid: 1,
      advertised_ip: null,
    };
    const found = await db.selectFrom('cluster_nodes').select('server_id').where('server_id', '=', id).executeTakeFirst();
    if (found) await db.updateTable('cluster_nodes').set(values).where('server_id', '=', id).execute();
    else await db.insertInto('cluster_nodes').values({ server_id: id, ...values }).execute();
  };

  beforeAll(async () => {
    t = await openTestDatabase(dialect);
    // Each "node" has its own connections, as separate processes would. Not on SQLite: its
    // driver is synchronous, so a second connection of this one process waiting for the write
    // lock would block the thread that holds it (separate processes wait for each other fine).
    for (let i = 1; i <= 3; i++) {
      const db = i === 1 || dialect === 'sqlite' ? t.database : await openDatabase({ ...t.config, poolMaxActive: 3, poolMaxIdle: 3 });
      if (db !== t.database) extra.push(db);
      pools.push(new LicensePool(db, clock, { nodeId: `n${i}`, publicKey, staleMs: 30_000, expiryWindowMs: 7 * DAY }));
    }
  });
  afterAll(async () => {
    for (const d of extra) await d.close();
    await t?.drop();
  });
  beforeEach(async () => {
    await t.database.db.deleteFrom('cluster_licenses').execute();
    await t.database.db.deleteFrom('cluster_nodes').execute();
    for (const id of ['n1', 'n2', 'n3']) await setNode(id, 'RUNNING');
  });

  it('installs keys (refusing bad ones with a reason, accepting one already there) and lists them latest expiry first', async () => {
    const [a, b] = [key(100, 'Alpha'), key(300, 'Beta', 'Trial')];
    const results = await pools[0].install([a, 'garbage', key(50, 'X', 'Enterprise', foreign.privateKey), b, a], 'admin');
    expect(results.map((r) => [r.ok, r.message])).toEqual([
      [true, 'OK'],
      [false, 'Not a license key (expected arca1.<document>.<signature>)'],
      [false, 'The license signature does not match the configured license public key'],
      [true, 'OK'],
      [true, 'OK'],
    ]);
    const list = await pools[1].list();
    expect(list.map((l) => [l.licensedTo, l.type, l.validThrough, l.nodeId, l.nodeUrl, l.expired])).toEqual([
      ['Beta', 'Trial', 'Oct 27, 2026', NOT_IN_USE, NOT_IN_USE, false],
      ['Alpha', 'Enterprise', 'Apr 10, 2026', NOT_IN_USE, NOT_IN_USE, false],
    ]);
    expect(list[0].licenseHash).toBe(results[3].hash);
    expect(list[0].validThroughDate).toBe('2026-10-27');
  });

  it('three nodes asking at once for two licenses: two get distinct ones (the latest first), the third none', async () => {
    await pools[0].install([key(100), key(300)], 'admin');
    const got = await Promise.all(pools.map((p) => p.ensure()));
    const hashes = got.map((g) => g.hash).filter((h) => h !== undefined);
    expect(hashes).toHaveLength(2);
    expect(new Set(hashes).size).toBe(2);
    expect(got.filter((g) => g.outcome === 'none')).toHaveLength(1);
    const rows = await t.database.db.selectFrom('cluster_licenses').select(['node_id', 'expires_at']).orderBy('expires_at').execute();
    expect(rows.every((r) => r.node_id !== null)).toBe(true);
    // Asking again changes nothing.
    const again = await Promise.all(pools.map((p) => p.ensure()));
    expect(again.map((g) => g.hash)).toEqual(got.map((g) => g.hash));
    expect(again.map((g) => g.outcome).sort()).toEqual(['kept', 'kept', 'none']);
  });

  it('a stopping node returns its license; a killed one after the stale period; the list shows holders and their URLs', async () => {
    await pools[0].install([key(100), key(200)], 'admin');
    const first = await pools[0].ensure();
    const second = await pools[1].ensure();
    expect((await pools[2].ensure()).outcome).toBe('none');
    const listed = await pools[2].list();
    expect(listed.map((l) => [l.nodeId, l.nodeUrl])).toEqual([
      ['n1', 'http://n1.example:8081/artifactory'],
      ['n2', 'http://n2.example:8081/artifactory'],
    ]);
    // n1 stops: its license is free at once and n3 takes it.
    await setNode('n1', 'STOPPED');
    expect(await pools[0].release()).toBe(1);
    expect((await pools[2].ensure()).hash).toBe(first.hash);
    // n2 is killed: its row stays RUNNING, the heartbeat ages.
    await setNode('n1', 'STARTING');
    clock.advance(20_000);
    expect((await pools[0].ensure()).outcome).toBe('none');
    clock.advance(11_000);
    await setNode('n3', 'RUNNING');
    const taken = await pools[0].ensure();
    expect(taken.hash).toBe(second.hash);
    await setNode('n1', 'RUNNING');
    expect((await pools[2].list()).map((l) => l.nodeId)).toEqual(['n3', 'n1']);
  });

  it('a node swaps an expiring license for a free later one', async () => {
    await pools[0].install([key(10)], 'admin');
    const old = await pools[0].ensure();
    const [later] = await pools[0].install([key(400)], 'admin');
    expect((await pools[0].ensure()).outcome).toBe('kept');
    clock.advance(3 * DAY);
    for (const id of ['n1', 'n2', 'n3']) await setNode(id, 'RUNNING');
    const swapped = await pools[0].ensure();
    expect(swapped).toMatchObject({ outcome: 'swapped', hash: later.hash });
    expect(swapped.license?.license_hash).toBe(later.hash);
    expect((await pools[1].ensure()).hash).toBe(old.hash);
    for (const id of ['n1', 'n2', 'n3']) await setNode(id, 'RUNNING');
    clock.advance(10 * DAY);
    for (const id of ['n1', 'n2']) await setNode(id, 'RUNNING');
    const list = await pools[0].list();
    expect(list.map((l) => [l.nodeId, l.expired])).toEqual([
      ['n1', false],
      ['n2', true],
    ]);
  });

  it('deletes a free license; refuses one in use without an alternative; switches the holder when one exists', async () => {
    const [x, y] = await pools[0].install([key(100), key(200)], 'admin');
    await pools[0].ensure();
    await pools[1].ensure();
    const refused = await pools[2].remove([x.hash!, 'f'.repeat(64)]);
    expect(refused.map((r) => [r.ok, r.message])).toEqual([
      [false, "License is in use by node 'n2' and no free license can replace it"],
      [false, 'License not found'],
    ]);
    const [z] = await pools[2].install([key(50)], 'admin');
    const done = await pools[2].remove([y.hash!]);
    expect(done).toEqual([{ hash: y.hash, ok: true, node: 'n1', replacedBy: z.hash, message: `OK (node 'n1' switched to license ${z.hash})` }]);
    expect((await pools[0].held())?.license_hash).toBe(z.hash);
    const [w] = await pools[2].install([key(30)], 'admin');
    expect((await pools[2].remove([w.hash!]))[0].ok).toBe(true);
    expect((await pools[2].list()).map((l) => [l.licenseHash, l.nodeId])).toEqual([
      [x.hash, 'n2'],
      [z.hash, 'n1'],
    ]);
  });

  it('a pool that trusts another key hands out none of these licenses', async () => {
    await pools[0].install([key(100)], 'admin');
    const other = new LicensePool(t.database, clock, { nodeId: 'n3', publicKey: foreign.publicKey, staleMs: 30_000, expiryWindowMs: 7 * DAY });
    expect((await other.ensure()).outcome).toBe('none');
    expect((await pools[2].ensure()).outcome).toBe('acquired');
  });
});
