import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, startTestNode, type TestNode } from '../helpers/node-context.js';

interface Answer {
  status: number;
  ms: number;
  connection: string | undefined;
  body: string;
}

/**
 * A body refused before it was all read (too large for the route's reader, malformed at its
 * start), over real sockets with one keep-alive connection: the answer arrives, says
 * `Connection: close`, and the client's next request is answered at once on a new connection
 * (before the fix, it waited for the 65 s keep-alive timeout on the stuck one).
 */
describe('bodies refused before they were read (one process, SQLite)', () => {
  let node: TestNode;
  let base: URL;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const started = Date.now();
      const req = http.request({ host: base.hostname, port: base.port, method, path, agent, headers: { authorization: ADMIN_AUTH, ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, ms: Date.now() - started, connection: res.headers.connection, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    node = await startTestNode('sqlite');
    base = new URL(await node.app.listen({ port: 0, host: '127.0.0.1' }));
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/unread-helm', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ rclass: 'local', packageType: 'helm' }) });
    expect(res.statusCode, res.body).toBe(200);
  });
  afterAll(async () => {
    agent.destroy();
    await node?.close();
  });

  it.each([
    ['a chart larger than the reader takes', 'PUT', '/artifactory/unread-helm/big-1.0.0.tgz', 40 << 20, 'application/octet-stream', 400],
    ['a ChartMuseum upload over its limit', 'POST', '/artifactory/api/helm/unread-helm/api/charts', 40 << 20, 'multipart/form-data; boundary=x', 413],
    ['a JSON body over the body limit', 'PUT', '/artifactory/api/repositories/unread-json', 5 << 20, 'application/json', 413],
  ])('%s: the answer says the connection closes, and the next request is answered at once', async (_what, method, path, size, type, status) => {
    const refused = await send(method, path, Buffer.alloc(size, 'a'), { 'content-type': type });
    expect([refused.status, refused.connection]).toEqual([status, 'close']);
    const next = await send('GET', '/artifactory/api/system/ping');
    expect([next.status, next.body]).toEqual([200, 'OK']);
    expect(next.ms).toBeLessThan(1500);
    // Nothing was stored.
    expect((await node.request({ url: '/artifactory/api/storage/unread-helm/big-1.0.0.tgz' })).statusCode).toBe(404);
  });
});
