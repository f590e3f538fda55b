import type { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.js';
import { guardedLookup, guardedRequest, UpstreamNetwork, UpstreamRefused, UpstreamUnreachable } from './guarded-http.js';

/** A resolver that answers from a script, one answer per call (DNS that changes its mind). */
function scripted(answers: string[][]): { resolve: typeof dnsLookup; calls: () => number } {
  let n = 0;
  const resolve = ((_host: string, _opts: unknown, cb: (err: Error | null, all: LookupAddress[]) => void) => {
    const list = answers[Math.min(n++, answers.length - 1)];
    cb(null, list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }) as unknown as typeof dnsLookup;
  return { resolve, calls: () => n };
}

function lookupOnce(lookup: ReturnType<typeof guardedLookup>, all: boolean): Promise<{ err: Error | null; result: unknown }> {
  return new Promise((r) => lookup('upstream.example', { all } as never, (err: Error | null, address: unknown) => r({ err, result: address })));
}

describe('guardedLookup', () => {
  const policy = new AddressPolicy(['169.254.0.0/16', '127.0.0.2']);

  it('hands the connection exactly the addresses it checked, each time it resolves', async () => {
    const dns = scripted([['93.184.216.34'], ['169.254.169.254']]);
    const lookup = guardedLookup(policy, dns.resolve);
    expect(await lookupOnce(lookup, false)).toEqual({ err: null, result: '93.184.216.34' });
    // The same name now resolves to a metadata address (DNS rebinding): refused, never returned.
    const second = await lookupOnce(lookup, true);
    expect(second.err).toBeInstanceOf(UpstreamRefused);
    expect(second.result).toBe('');
    expect(dns.calls()).toBe(2);
  });

  it('refuses a name when any of its addresses is denied', async () => {
    const lookup = guardedLookup(policy, scripted([['93.184.216.34', '127.0.0.2']]).resolve);
    expect((await lookupOnce(lookup, true)).err?.message).toMatch(/127\.0\.0\.2 .*deny list/);
  });

  it('answers every address when asked for all', async () => {
    const lookup = guardedLookup(policy, scripted([['93.184.216.34', '2606:2800::1']]).resolve);
    expect((await lookupOnce(lookup, true)).result).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800::1', family: 6 },
    ]);
  });
});

describe('guardedRequest', () => {
  let server: Server;
  let base = '';
  const seen: { path: string; authorization?: string; method: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, method: req.method ?? '' });
      const port = (server.address() as { port: number }).port;
      if (req.url === '/gz') {
        const body = gzipSync('decoded body');
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
        return res.end(body);
      }
      if (req.url === '/to-other-origin') {
        res.writeHead(302, { location: `http://localhost:${port}/landing` });
        return res.end();
      }
      if (req.url === '/see-other') {
        res.writeHead(303, { location: '/landing' });
        return res.end();
      }
      if (req.url === '/to-denied') {
        res.writeHead(301, { location: 'http://127.0.0.2:9/' });
        return res.end();
      }
      if (req.url === '/to-file') {
        res.writeHead(302, { location: 'file:///etc/passwd' });
        return res.end();
      }
      if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' });
        return res.end();
      }
      if (req.url === '/silent') return; // never answers
      if (req.url === '/reset') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('part');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.end(`landed ${req.method}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const text = async (res: { body: AsyncIterable<Uint8Array> }) => {
    const parts: Buffer[] = [];
    for await (const c of res.body) parts.push(Buffer.from(c));
    return Buffer.concat(parts).toString('utf8');
  };
  const network = new UpstreamNetwork(new AddressPolicy(['169.254.0.0/16', '127.0.0.2']));
  afterAll(() => network.close());

  it('decodes compressed bodies, as fetch did', async () => {
    expect(await text(await guardedRequest(network, `${base}/gz`, { timeoutMs: 5000 }))).toBe('decoded body');
  });

  it('drops credentials when a redirect leaves the origin, and turns a POST into a GET on 303', async () => {
    seen.length = 0;
    const res = await guardedRequest(network, `${base}/to-other-origin`, { headers: { authorization: 'Basic c2VjcmV0' }, timeoutMs: 5000 });
    expect([res.status, res.redirected, await text(res)]).toEqual([200, true, 'landed GET']);
    expect(seen.map((s) => s.authorization)).toEqual(['Basic c2VjcmV0', undefined]);
    const posted = await guardedRequest(network, `${base}/see-other`, { method: 'POST', body: 'x', timeoutMs: 5000 });
    expect(await text(posted)).toBe('landed GET');
  });

  it('refuses denied hops, other schemes, credentials in URLs and endless redirects', async () => {
    await expect(guardedRequest(network, `${base}/to-denied`, { timeoutMs: 5000 })).rejects.toThrow(UpstreamRefused);
    await expect(guardedRequest(network, `${base}/to-file`, { timeoutMs: 5000 })).rejects.toThrow(/file: URLs are not followed/);
    await expect(guardedRequest(network, `http://user:pw@127.0.0.1:1/`, { timeoutMs: 5000 })).rejects.toThrow(/carries credentials/);
    await expect(guardedRequest(network, 'http://169.254.169.254/', { timeoutMs: 5000 })).rejects.toThrow(UpstreamRefused);
    await expect(guardedRequest(network, `${base}/loop`, { timeoutMs: 5000 })).rejects.toThrow(/redirected more than 20 times/);
  });

  it('keeps a connection reset that comes before the body is read, and throws it on the first read', async () => {
    const res = await guardedRequest(network, `${base}/reset`, { timeoutMs: 5000 });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    await expect(text(res)).rejects.toThrow(UpstreamUnreachable);
  });

  it('reuses one kept-alive connection for a node, and closes it with the network', async () => {
    const own = new UpstreamNetwork(new AddressPolicy(['169.254.0.0/16']));
    const sockets: Socket[] = [];
    const onConnection = (socket: Socket) => void sockets.push(socket);
    server.on('connection', onConnection);
    try {
      expect(await text(await guardedRequest(own, `${base}/gz`, { timeoutMs: 5000 }))).toBe('decoded body');
      expect(await text(await guardedRequest(own, `${base}/landing`, { timeoutMs: 5000 }))).toBe('landed GET');
      expect(sockets).toHaveLength(1);
      // Well before the server's own keep-alive timeout (5 s) would close it.
      const closed = new Promise<string>((r) => sockets[0].once('close', () => r('closed')));
      own.close();
      expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open'), 1000))])).toBe('closed');
    } finally {
      server.off('connection', onConnection);
      own.close();
    }
  });

  it('gives up on an upstream that does not answer within the timeout', async () => {
    const started = Date.now();
    const err = await guardedRequest(network, `${base}/silent`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnreachable);
    expect(err).not.toBeInstanceOf(UpstreamRefused);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
