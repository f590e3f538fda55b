import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { raw, type RawResponse } from '../helpers/raw-http.js';

/**
 * Issue 12, item 3: the failed-login lockout holds under concurrency. 200 parallel wrong
 * passwords (all different, as a guesser sends them) are checked at most `maxFailures` times
 * plus once per other process that had a check under way when the lock began; every other
 * guess gets the lock (401 + Retry-After), every checked failure is counted in the database,
 * and the right password is refused on every node while the lock lasts.
 */
const MAX_FAILURES = 5;
const GUESSES = 200;
const PASSWORD = 'Victim-Passw0rd';
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Storm {
  bad: number;
  locked: number;
  other: RawResponse[];
  /** When each answer came (ms), B for "Bad credentials", L for the lock: shown when a bound fails. */
  timeline: string;
}

/** Fires every guess at once (one fresh connection each), spread over the given nodes. */
async function storm(nodes: NodeProcess[], user: string): Promise<Storm> {
  const started = Date.now();
  const timeline: string[] = [];
  const answers = await Promise.all(
    Array.from({ length: GUESSES }, async (_, i) => {
      const r = await raw(nodes[i % nodes.length].url, { path: `/artifactory/api/security/users/${user}`, headers: { authorization: basic(user, `wrong-guess-${i}`) } });
      timeline.push(`${Date.now() - started}${r.headers['retry-after'] === undefined ? 'B' : 'L'}`);
      return r;
    }),
  );
  const out: Storm = { bad: 0, locked: 0, other: [], timeline: timeline.join(' ') };
  for (const r of answers) {
    if (r.status === 401 && r.headers['retry-after'] !== undefined) out.locked++;
    else if (r.status === 401 && r.text().includes('Bad credentials')) out.bad++;
    else out.other.push(r);
  }
  return out;
}

async function setUp(node: NodeProcess, user: string): Promise<string> {
  const put = await raw(node.url, { method: 'PUT', path: `/artifactory/api/security/users/${user}`, ...json({ password: PASSWORD }) });
  expect(put.status, put.text()).toBe(201);
  const t = await raw(node.url, { method: 'POST', path: '/access/api/v1/tokens', ...json({ username: user, expires_in: 3600 }) });
  expect(t.status, t.text()).toBe(200);
  return t.json().access_token as string;
}

async function expectLockHolds(nodes: NodeProcess[], user: string, token: string): Promise<void> {
  for (const n of nodes) {
    const right = await raw(n.url, { path: `/artifactory/api/security/users/${user}`, headers: { authorization: basic(user, PASSWORD) } });
    expect(right.status).toBe(401);
    expect(Number(right.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The lock guards the password only: the user's token keeps working.
    const viaToken = await raw(n.url, { path: `/artifactory/api/security/users/${user}`, headers: { authorization: `Bearer ${token}` } });
    expect(viaToken.status).toBe(200);
  }
}

describe('lockout under 200 parallel wrong passwords', () => {
  describe('one `arca start` process with two workers (SQLite)', () => {
    const WORKERS = 2;
    let node: NodeProcess;
    beforeAll(async () => {
      node = await startNodeProcess({ workers: WORKERS, env: { ARCA_LOGIN_MAXFAILURES: String(MAX_FAILURES) } });
    });
    afterAll(async () => {
      await node?.cleanup();
    });

    it(`checks at most ${MAX_FAILURES} + in-flight guesses, locks the rest, and then refuses the right password`, { timeout: 180_000 }, async () => {
      const token = await setUp(node, 'victim');
      const s = await storm([node], 'victim');
      expect(s.other.map((r) => `${r.status} ${r.text()}`)).toEqual([]);
      expect(s.bad).toBeGreaterThanOrEqual(MAX_FAILURES);
      // One check per worker at most can be under way when the lock begins.
      expect(s.bad, s.timeline).toBeLessThanOrEqual(MAX_FAILURES + WORKERS - 1);
      expect(s.locked).toBe(GUESSES - s.bad);
      // Every checked failure was counted, once.
      const db = new Sqlite(join(node.home, 'data', 'arca.db'), { readonly: true });
      try {
        const row = db.prepare('select failed_logins, locked_until from users where name = ?').get('victim') as { failed_logins: number; locked_until: number };
        expect(row.failed_logins).toBe(s.bad);
        expect(row.locked_until).toBeGreaterThan(Date.now());
      } finally {
        db.close();
      }
      await expectLockHolds([node], 'victim', token);
    });
  });

  describe('two nodes with two workers each on PostgreSQL', () => {
    const PROCESSES = 4;
    let cluster: ProcessCluster;
    beforeAll(async () => {
      cluster = await startProcessCluster(2, { workers: 2, env: { ARCA_LOGIN_MAXFAILURES: String(MAX_FAILURES) } });
    });
    afterAll(async () => {
      await cluster?.close();
    });

    it(`checks at most ${MAX_FAILURES} + in-flight guesses across both nodes and locks the user on every node`, { timeout: 180_000 }, async () => {
      const token = await setUp(cluster.nodes[0], 'victim');
      const s = await storm(cluster.nodes, 'victim');
      expect(s.other.map((r) => `${r.status} ${r.text()}`)).toEqual([]);
      expect(s.bad).toBeGreaterThanOrEqual(MAX_FAILURES);
      expect(s.bad, s.timeline).toBeLessThanOrEqual(MAX_FAILURES + PROCESSES - 1);
      expect(s.locked).toBe(GUESSES - s.bad);
      const client = new pg.Client({ connectionString: cluster.dbUrl });
      await client.connect();
      try {
        const { rows } = await client.query('select failed_logins, locked_until from users where name = $1', ['victim']);
        expect(Number(rows[0].failed_logins)).toBe(s.bad);
        expect(Number(rows[0].locked_until)).toBeGreaterThan(Date.now());
      } finally {
        await client.end();
      }
      await expectLockHolds(cluster.nodes, 'victim', token);
    });
  });
});
