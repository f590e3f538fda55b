import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import type { DialectName } from '../../src/db/database.js';
import { buildApp } from '../../src/http/app.js';
import { createNodeContext, type NodeContext } from '../../src/node/context.js';
import { DIALECTS, freshDatabaseConfig } from '../helpers/databases.js';
import { ADMIN_AUTH, ADMIN_PASSWORD, basic } from '../helpers/node-context.js';

const MAX_FAILURES = 3;
const RIGHT = basic('carol', 'Carol-Pw1');
const WRONG = basic('carol', 'not-it');

/** A node whose clock the test moves, so lock periods and token expiry are exact. */
async function startClockedNode(dialect: DialectName, clock: FakeClock) {
  const home = mkdtempSync(join(tmpdir(), 'arca-test-home-'));
  const fresh = await freshDatabaseConfig(dialect);
  mkdirSync(join(home, 'etc'), { recursive: true });
  if (dialect === 'postgresql') writeFileSync(join(home, 'etc', 'db.properties'), `type=postgresql\nurl=${fresh.url}\n`);
  const ctx: NodeContext = await createNodeContext({
    home,
    clock,
    env: { ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: 'clocked', ARCA_LOGIN_MAXFAILURES: String(MAX_FAILURES) },
    logger: pino({ level: 'silent' }),
  });
  const app: FastifyInstance = await buildApp(ctx);
  await app.ready();
  return {
    ctx,
    request: (opts: InjectOptions) => app.inject({ ...opts, headers: { authorization: ADMIN_AUTH, ...(opts.headers ?? {}) } }),
    async close() {
      await app.close();
      await ctx.close();
      await fresh.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

describe.each(DIALECTS)('failed-login lockout and token expiry on %s', (dialect) => {
  const clock = new FakeClock();
  let node: Awaited<ReturnType<typeof startClockedNode>>;
  let token: string;
  let apiKey: string;

  const whoami = (authorization: string, extra: Record<string, string> = {}) =>
    node.request({ method: 'GET', url: '/artifactory/api/security/users/carol', headers: { authorization, ...extra } });
  const failures = async () =>
    (await node.ctx.database.db.selectFrom('users').select(['failed_logins']).where('name', '=', 'carol').executeTakeFirstOrThrow()).failed_logins;
  async function expectLocked(retryAfter: number) {
    const res = await whoami(RIGHT);
    expect(res.statusCode).toBe(401);
    expect(res.headers['retry-after']).toBe(String(retryAfter));
    expect(res.json().errors[0].message).toContain('locked');
  }
  async function fail(times: number) {
    for (let i = 0; i < times; i++) {
      const res = await whoami(WRONG);
      expect(res.statusCode).toBe(401);
    }
  }

  beforeAll(async () => {
    node = await startClockedNode(dialect, clock);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/carol', payload: { password: 'Carol-Pw1' } })).statusCode).toBe(201);
    const t = await node.request({ method: 'POST', url: '/access/api/v1/tokens', payload: { username: 'carol', expires_in: 0 } });
    token = t.json().access_token;
    apiKey = (await node.request({ method: 'POST', url: '/artifactory/api/security/apiKey', headers: { authorization: RIGHT } })).json().apiKey;
    // Let the version poller catch up with the bumps above, so it clears no cache mid-test.
    await node.ctx.versions.poll();
  });
  afterAll(async () => {
    await node?.close();
  });

  it(`locks the user after ${MAX_FAILURES} failures, refusing even the right password with Retry-After`, async () => {
    expect((await whoami(RIGHT)).statusCode).toBe(200);
    await fail(MAX_FAILURES - 1);
    expect((await whoami(WRONG)).headers['retry-after']).toBeUndefined();
    // The right password was verified (and cached) before the failures: the lock still wins.
    await expectLocked(1);
    clock.advance(500);
    await expectLocked(1);
    // Attempts during the lock are refused without being counted.
    expect((await whoami(WRONG)).statusCode).toBe(401);
    expect(await failures()).toBe(MAX_FAILURES);
  });

  it('keeps access tokens and API keys working during the lock', async () => {
    await expectLocked(1);
    expect((await whoami(`Bearer ${token}`)).statusCode).toBe(200);
    expect((await whoami('', { 'x-jfrog-art-api': apiKey })).statusCode).toBe(200);
  });

  it('sends Retry-After with the lock in every protocol: npm, PyPI and the registry answer in their own shape', async () => {
    await expectLocked(1);
    const npm = await node.request({ url: '/artifactory/api/npm/npm-any/-/whoami', headers: { authorization: RIGHT } });
    expect(npm.statusCode).toBe(401);
    expect(npm.headers['retry-after']).toBe('1');
    expect(npm.json().error).toContain('locked');
    const pypi = await node.request({ url: '/artifactory/api/pypi/pypi-any/simple/', headers: { authorization: RIGHT } });
    expect(pypi.statusCode).toBe(401);
    expect(pypi.headers['retry-after']).toBe('1');
    expect(pypi.headers['www-authenticate']).toBe('Basic realm="Artifactory Realm"');
    expect(pypi.body).toContain('locked');
    const oci = await node.request({ url: '/v2/', headers: { authorization: RIGHT } });
    expect(oci.statusCode).toBe(401);
    expect(oci.headers['retry-after']).toBe('1');
    expect(oci.json().errors[0].code).toBe('UNAUTHORIZED');
  });

  it('lets the right password in once the lock ends (failures were never cached) and resets the counter', async () => {
    clock.advance(501);
    expect((await whoami(RIGHT)).statusCode).toBe(200);
    expect(await failures()).toBe(0);
    await fail(MAX_FAILURES - 1);
    expect((await whoami(RIGHT)).statusCode).toBe(200);
    expect(await failures()).toBe(0);
  });

  it('doubles the lock with each failure after a lock ends, up to five minutes', async () => {
    await fail(MAX_FAILURES);
    await expectLocked(1);
    clock.advance(1001);
    await fail(1);
    await expectLocked(2);
    clock.advance(2001);
    await fail(1);
    await expectLocked(4);
    clock.advance(4001);
    expect((await whoami(RIGHT)).statusCode).toBe(200);
    await node.ctx.database.db.updateTable('users').set({ failed_logins: 40 }).where('name', '=', 'carol').execute();
    await fail(1);
    await expectLocked(300);
    clock.advance(300_001);
    expect((await whoami(RIGHT)).statusCode).toBe(200);
  });

  it('refuses an access token once it expires, even one cached as valid', async () => {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/security/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=carol&expires_in=60' });
    const short = res.json().access_token as string;
    expect((await whoami(`Bearer ${short}`)).statusCode).toBe(200);
    clock.advance(59_000);
    expect((await whoami(`Bearer ${short}`)).statusCode).toBe(200);
    clock.advance(1_000);
    const expired = await whoami(`Bearer ${short}`);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().errors[0].message).toContain('expired');
    // A token that never expires still works a year later.
    clock.advance(365 * 24 * 3600 * 1000);
    expect((await whoami(`Bearer ${token}`)).statusCode).toBe(200);
    const list = (await node.request({ method: 'GET', url: '/artifactory/api/security/token' })).json().tokens as { token_id: string }[];
    expect(list.map((t) => t.token_id)).not.toContain(JSON.parse(Buffer.from(short.split('.')[1], 'base64url').toString()).jti);
  });
});
