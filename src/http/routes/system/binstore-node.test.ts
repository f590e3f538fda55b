import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../../binstore/sharding/node-auth.js';
import { put, SECRET, startPeer, type TestPeer } from '../../../binstore/sharding/testing/peers.js';

const sha1Of = (data: Buffer) => createHash('sha1').update(data).digest('hex');

describe('internal node binstore API', () => {
  let peer: TestPeer;
  const data = randomBytes(10_000);
  let sha1: string;

  beforeAll(async () => {
    peer = await startPeer('node-2');
    sha1 = await put(peer.store, data);
  });
  afterAll(async () => {
    await peer.close();
  });

  const path = (rest: string) => `/api/binstore/node${rest}`;
  const call = (method: string, rest: string, init: { headers?: Record<string, string>; body?: Buffer; signedAt?: number; secret?: Buffer; signedPath?: string } = {}) => {
    const signed = signRequest(init.secret ?? SECRET, 'node-1', method, init.signedPath ?? path(rest), init.signedAt ?? Date.now());
    return fetch(`${peer.url}${path(rest)}`, { method, headers: { ...signed, ...init.headers }, body: init.body });
  };

  it('refuses a request without a signature, with an old timestamp, with another secret, or signed for another path (401)', async () => {
    const unsigned = await fetch(`${peer.url}${path(`/binaries/${sha1}`)}`);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { errors: { message: string }[] }).errors[0].message).toContain('node authentication headers are missing');
    const old = await call('GET', `/binaries/${sha1}`, { signedAt: Date.now() - 10 * 60_000 });
    expect(old.status).toBe(401);
    expect(await old.text()).toContain("away from this node's clock");
    const wrongKey = await call('GET', `/binaries/${sha1}`, { secret: Buffer.alloc(32, 9) });
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.text()).toContain('signature does not match');
    // A signature taken from another request does not open this one.
    const replayed = await call('DELETE', `/binaries/${sha1}`, { signedPath: path(`/binaries/${'0'.repeat(40)}`) });
    expect(replayed.status).toBe(401);
    const forged = await fetch(`${peer.url}${path(`/binaries/${sha1}`)}`, { headers: { ...signRequest(SECRET, 'node-1', 'GET', path(`/binaries/${sha1}`), Date.now()), 'x-arca-node-signature': 'f'.repeat(64) } });
    expect(forged.status).toBe(401);
    expect(await peer.store.exists(sha1)).toBe(true);
  });

  it('serves HEAD, GET and one Range from the local store', async () => {
    const head = await call('HEAD', `/binaries/${sha1}`);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10000');
    const whole = await call('GET', `/binaries/${sha1}`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);
    const part = await call('GET', `/binaries/${sha1}`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/10000');
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true);
    expect((await call('GET', `/binaries/${sha1}`, { headers: { range: 'bytes=20000-' } })).status).toBe(416);
    expect((await call('HEAD', `/binaries/${'a'.repeat(40)}`)).status).toBe(404);
    expect((await call('GET', `/binaries/${'a'.repeat(40)}`)).status).toBe(404);
    expect((await call('GET', `/binaries/not-a-sha1`)).status).toBe(400);
  });

  it('stores a PUT only when the bytes match the SHA-1 in the URL (409 otherwise, nothing stored)', async () => {
    const body = randomBytes(5000);
    const wrong = '1'.repeat(40);
    const refused = await call('PUT', `/binaries/${wrong}`, { body, headers: { 'content-type': 'application/octet-stream' } });
    expect(refused.status).toBe(409);
    expect(await peer.store.exists(wrong)).toBe(false);
    expect(await peer.store.exists(sha1Of(body))).toBe(false);
    const ok = await call('PUT', `/binaries/${sha1Of(body)}`, { body, headers: { 'content-type': 'application/octet-stream' } });
    expect(ok.status).toBe(201);
    expect((await peer.store.readBuffer(sha1Of(body))).equals(body)).toBe(true);
    expect((await call('DELETE', `/binaries/${sha1Of(body)}`)).status).toBe(204);
    expect((await call('DELETE', `/binaries/${sha1Of(body)}`)).status).toBe(404);
    expect(await peer.store.exists(sha1Of(body))).toBe(false);
  });

  it('lists the local store in SHA-1 order, page by page', async () => {
    const all = [sha1];
    for (let i = 0; i < 6; i++) all.push(await put(peer.store, randomBytes(20 + i)));
    all.sort();
    const seen: string[] = [];
    let after = '';
    let pages = 0;
    for (;;) {
      const res = await call('GET', `/binaries?after=${after}&limit=3`);
      const page = (await res.json()) as { items: { sha1: string; mtimeMs: number }[]; next?: string };
      pages++;
      seen.push(...page.items.map((i) => i.sha1));
      expect(page.items.every((i) => i.mtimeMs > 0)).toBe(true);
      if (!page.next) break;
      after = page.next;
    }
    expect(seen).toEqual(all);
    expect(pages).toBe(3);
    expect((await call('GET', `/binaries?limit=0`)).status).toBe(400);
    const check = await call('GET', '/check');
    expect(await check.json()).toEqual({ ok: true, nodeId: 'node-2' });
  });
});
