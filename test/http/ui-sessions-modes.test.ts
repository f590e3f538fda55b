import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { startCluster, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { ADMIN_PASSWORD } from '../helpers/node-context.js';
import { CURRENT_URL, LOGOUT_URL, sessionToken, uiLogin, withCookie } from '../helpers/ui-session.js';

const REDIS_URL = process.env.ARCA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why the Redis suite cannot run here, or undefined when Redis answers. */
async function redisProblem(): Promise<string | undefined> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined;
  r.on('error', (err: Error) => (cause ??= err));
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return `no Redis at ${REDIS_URL} (${(cause ?? (err as Error)).message}); set ARCA_TEST_REDIS_URL`;
  } finally {
    r.disconnect();
  }
}

const skipRedis = await redisProblem();
if (skipRedis) console.warn(`[ui-sessions-modes] distributed (Redis) session tests skipped: ${skipRedis}`);

const writeProps = (text: string) => (i: number, home: string) => {
  if (i === 0) writeFileSync(join(home, 'etc', 'artifactory.system.properties'), text);
};

describe.skipIf(skipRedis !== undefined)('UI login sessions in Redis (artifactory.map.provider.type=distributed)', () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  let redis: Redis;
  const prefix = `arca-test:${randomBytes(4).toString('hex')}:`;
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));

  beforeAll(async () => {
    // The first node's file is mirrored to the second: both use Redis under this prefix.
    const props = `artifactory.map.provider.type=distributed\nartifactory.ui.session.timeout.minutes=10\narca.session.redis.url=${REDIS_URL}\narca.session.redis.keyPrefix=${prefix}\n`;
    cluster = await startCluster('sqlite', 2, { clock, prepare: writeProps(props) });
    [a, b] = cluster.nodes;
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await cluster?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps the session in Redis with the idle timeout as its expiry, valid through every node', async () => {
    expect(a.ctx.security.sessions?.kind).toBe('distributed');
    expect(b.ctx.security.sessions?.kind).toBe('distributed');
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    // The key is the hash of the cookie, never the cookie itself.
    expect(keys[0]).not.toContain(token);
    const ttl = await redis.pttl(keys[0]);
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    expect((await withCookie(b, token, CURRENT_URL)).json()).toMatchObject({ name: 'admin', admin: true });
  });

  it('ends the session on every node at logout', async () => {
    const token = sessionToken(await uiLogin(b, 'admin', ADMIN_PASSWORD));
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(200);
    expect((await withCookie(a, token, LOGOUT_URL, { method: 'POST' })).statusCode).toBe(200);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(401);
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(401);
  });

  it('expires an idle session and slides the timeout (in Redis too) on use', async () => {
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    clock.advance(6 * 60_000);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(200);
    clock.advance(6 * 60_000);
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(200);
    clock.advance(10 * 60_000 + 1);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(401);
  });

  it('answers 503 while Redis cannot be reached, instead of treating the cookie as anonymous', async () => {
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    const store = a.ctx.security.sessions!.store as unknown as { redis: Redis };
    store.redis.disconnect();
    const r = await withCookie(a, token, CURRENT_URL);
    expect(r.statusCode).toBe(503);
    await store.redis.connect().catch(() => undefined);
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(200);
  });
});

describe('UI login sessions per process (artifactory.map.provider.type=jvm)', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster('sqlite', 2, { prepare: writeProps('artifactory.map.provider.type=jvm\n') });
  });
  afterAll(() => cluster?.close());

  it('knows a session only on the node that made it (hence sticky sessions)', async () => {
    const [a, b] = cluster.nodes;
    expect(b.ctx.security.sessions?.kind).toBe('jvm');
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(200);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(401);
    expect((await withCookie(a, token, LOGOUT_URL, { method: 'POST' })).statusCode).toBe(200);
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(401);
    expect(await a.ctx.database.db.selectFrom('ui_sessions').selectAll().execute()).toEqual([]);
    // Nothing for a cluster task to clean: the process sweeps its own sessions.
    const listed = (await a.request({ url: '/artifactory/api/system/tasks' })).json() as { tasks: { name: string }[] };
    expect(listed.tasks.map((t) => t.name)).not.toContain('session-cleanup');
  });
});
