import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw } from '../helpers/raw-http.js';

/**
 * Issue 12, item 4: user names do not leak through timing. A wrong password of an unknown
 * user, and of a user without an internal password, costs the same scrypt as a wrong
 * password of a real user. Medians of interleaved logins against a real `arca start`
 * process; the real user's time is the reference measured in the same test.
 */
const ROUNDS = 9;
/** Allowed ratio between medians: generous for a loaded machine, far from the ~40× of a skipped hash. */
const LOW = 0.5;
const HIGH = 2;
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('login timing does not tell user names apart', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    // A high threshold, so the real user is never locked while being measured.
    node = await startNodeProcess({ workers: 1, env: { ARCA_LOGIN_MAXFAILURES: '100000' } });
    const put = (name: string, body: unknown) => raw(node.url, { method: 'PUT', path: `/artifactory/api/security/users/${name}`, ...json(body) });
    expect((await put('real', { password: 'Real-Passw0rd' })).status).toBe(201);
    expect((await put('sso-only', { internalPasswordDisabled: true })).status).toBe(201);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  /** One Basic-auth request with a password never tried before (nothing is cached or shared). */
  async function timeLogin(user: string, i: number): Promise<number> {
    const started = process.hrtime.bigint();
    const res = await raw(node.url, { path: '/artifactory/api/security/users/real', headers: { authorization: basic(user, `guess-${user}-${i}`) } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(res.status).toBe(401);
    expect(res.headers['retry-after']).toBeUndefined();
    return ms;
  }

  it('answers an unknown user and a user without an internal password as slowly as a real one', { timeout: 240_000 }, async () => {
    // Warm up the process (JIT, connection handling, the dummy hash).
    for (const u of ['real', 'nobody-warm', 'sso-only']) await timeLogin(u, -1);
    const times: Record<'real' | 'unknown' | 'noPassword', number[]> = { real: [], unknown: [], noPassword: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, so load on the machine hits every kind alike.
      times.real.push(await timeLogin('real', i));
      times.unknown.push(await timeLogin(`nobody-${i}`, i));
      times.noPassword.push(await timeLogin('sso-only', i));
    }
    const m = { real: median(times.real), unknown: median(times.unknown), noPassword: median(times.noPassword) };
    const detail = JSON.stringify({ medians: m, times });
    expect(m.unknown / m.real, detail).toBeGreaterThan(LOW);
    expect(m.unknown / m.real, detail).toBeLessThan(HIGH);
    expect(m.noPassword / m.real, detail).toBeGreaterThan(LOW);
    expect(m.noPassword / m.real, detail).toBeLessThan(HIGH);
  });
});
