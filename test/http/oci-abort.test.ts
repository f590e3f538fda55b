import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { sha256 } from './oci-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Uploads the client abandons halfway (a killed docker push): nothing is stored, the session stays usable. */
describe('OCI uploads aborted by the client', () => {
  let node: TestNode;
  let port: number;
  const staging = () => readdirSync(join(node.home, 'data', 'tmp')).filter((n) => n.startsWith('upload-'));

  /** A request whose body is fed by hand and then cut off. */
  function cutOff(method: string, path: string) {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: { authorization: ADMIN_AUTH, 'transfer-encoding': 'chunked' } });
    req.on('error', () => undefined);
    return {
      write: (b: Buffer) => new Promise<void>((r) => (req.write(b) ? r() : req.once('drain', () => r()))),
      abort: () => req.destroy(),
    };
  }

  beforeAll(async () => {
    node = await startTestNode();
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/docker-local', payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    port = (node.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await node?.close();
  });

  it('keeps no part of a PATCH cut off halfway, and the session continues from where it was', async () => {
    const start = await node.request({ method: 'POST', url: '/v2/docker-local/cut/blobs/uploads/' });
    const loc = start.headers.location as string;
    const first = Buffer.from('first chunk');
    expect((await node.request({ method: 'PATCH', url: loc, payload: first, headers: { 'content-range': `0-${first.length - 1}` } })).statusCode).toBe(202);
    const up = cutOff('PATCH', loc);
    await up.write(randomBytes(1 << 20));
    await up.write(randomBytes(1 << 20));
    await sleep(200);
    expect(staging().length).toBeGreaterThan(0);
    up.abort();
    const end = Date.now() + 5000;
    while (staging().length > 0 && Date.now() < end) await sleep(50);
    expect(staging()).toEqual([]);
    const status = await node.request({ method: 'GET', url: loc });
    expect([status.statusCode, status.headers.range]).toEqual([204, `0-${first.length - 1}`]);
    const rest = Buffer.from(' and the rest');
    const done = await node.request({ method: 'PUT', url: `${loc}?digest=${sha256(Buffer.concat([first, rest]))}`, payload: rest });
    expect(done.statusCode, done.body).toBe(201);
  });

  it('stores nothing for a monolithic POST cut off halfway', async () => {
    const data = randomBytes(3 << 20);
    const up = cutOff('POST', `/v2/docker-local/cut/blobs/uploads/?digest=${sha256(data)}`);
    await up.write(data.subarray(0, 1 << 20));
    await sleep(200);
    up.abort();
    await sleep(300);
    expect((await node.request({ method: 'HEAD', url: `/v2/docker-local/cut/blobs/${sha256(data)}` })).statusCode).toBe(404);
    expect(staging()).toEqual([]);
  });
});
