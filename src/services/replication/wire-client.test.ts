import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secrets.js';
import { AddressPolicy } from '../remote/address-policy.js';
import { UpstreamNetwork } from '../remote/guarded-http.js';
import { parseFileList } from './file-list-parser.js';
import { matrixOf, WireClient } from './wire-client.js';

const KEY = Buffer.alloc(32, 3);

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('file list parser', () => {
  const doc = JSON.stringify({
    uri: 'http://x/api/storage/r',
    created: '2026-01-01',
    children: [{ uri: '/not-a-file' }],
    files: [
      { uri: '/a/b.jar', size: 3, folder: false, sha1: 'aa', sha2: 'bb' },
      { uri: '/we"ird/{x}[y]\\z', size: 1, folder: false, sha1: 'cc', nested: { files: [{ uri: '/no' }] } },
      { uri: '/dir', size: -1, folder: true },
    ],
  });

  it('yields each element of the root files array, also when every chunk is one character', async () => {
    for (const chunks of [[doc], doc.split('')]) {
      const files = await all(parseFileList(Readable.from(chunks.map((c) => Buffer.from(c)))));
      expect(files.map((f) => f.uri)).toEqual(['/a/b.jar', '/we"ird/{x}[y]\\z', '/dir']);
      expect(files[0]).toMatchObject({ sha1: 'aa', sha2: 'bb', size: 3 });
    }
  });

  it('refuses a truncated list', async () => {
    await expect(all(parseFileList(Readable.from([doc.slice(0, 80)])))).rejects.toThrow(/ended/);
  });
});

describe('wire client', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string; raw: Buffer }[] = [];
  const stored = new Set<string>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: raw.toString(), raw });
        res.setHeader('x-arca-site-id', 'site-b.1');
        if (req.headers.authorization !== `Basic ${Buffer.from('deployer:pw-Secret-1').toString('base64')}`) return res.writeHead(401).end();
        const sha1 = String(req.headers['x-checksum-sha1']);
        if (req.method === 'PUT' && req.headers['x-checksum-deploy'] === 'true' && !stored.has(sha1)) return res.writeHead(404).end();
        if (req.method === 'PUT') stored.add(sha1);
        res.writeHead(req.method === 'PUT' ? 201 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/artifactory/libs`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const client = (network = new UpstreamNetwork(), password = encryptSecret(KEY, 'pw-Secret-1')) =>
    new WireClient({ url: base, username: 'deployer', password, socketTimeoutMillis: 2000, syncProperties: true }, network, KEY, { read: async () => Readable.from([Buffer.from('hello')]) });

  it('deploys by checksum, then with the body on 404; matrix properties encoded; learns the site id', async () => {
    const c = client();
    const file = { sha1: 'f'.repeat(40), sha256: 'e'.repeat(64), size: 5, props: { 'a;b': ['x,y', 'z=1'], k: ['v'] } };
    expect(await c.deploy('dir/my file;1.txt', file, 'site-a')).toEqual({ body: true, bytes: 5 });
    expect(c.siteId).toBe('site-b.1');
    const [first, second] = seen.slice(-2);
    expect(first).toMatchObject({ method: 'PUT', url: '/artifactory/libs/dir/my%20file%3B1.txt;a%3Bb=x%2Cy,z%3D1;k=v', body: '' });
    expect(first!.headers).toMatchObject({ 'x-checksum-deploy': 'true', 'x-arca-replication-origin': 'site-a', 'x-arca-replication-properties': 'exact', 'x-checksum-sha256': 'e'.repeat(64) });
    expect(second).toMatchObject({ method: 'PUT', body: 'hello' });
    expect(second!.headers['x-checksum-deploy']).toBeUndefined();
    expect(c.bytesSent).toBe(5);
    // Known now: the checksum deploy is enough.
    expect(await c.deploy('other.txt', file, 'site-a')).toEqual({ body: false, bytes: 0 });
    await c.delete('gone.txt', 'site-a');
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/artifactory/libs/gone.txt' });
  });

  it('sends small files of a local store whole from reused buffers, other files as streams', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-wire-'));
    const files = new Map<string, Buffer>();
    const put = (size: number) => {
      const data = randomBytes(size);
      const sha1 = data.subarray(0, 20).toString('hex');
      files.set(sha1, data);
      writeFileSync(join(dir, sha1), data);
      return { sha1, size, data };
    };
    let streamed = 0;
    const c = new WireClient({ url: base, username: 'deployer', password: encryptSecret(KEY, 'pw-Secret-1'), socketTimeoutMillis: 2000, syncProperties: false }, new UpstreamNetwork(), KEY, {
      read: async (sha1) => {
        streamed++;
        return Readable.from([files.get(sha1)!]);
      },
      openFile: (sha1) => open(join(dir, sha1)),
    });
    try {
      // Many at once and one after another: a reused buffer never carries another file's bytes.
      const small = Array.from({ length: 12 }, (_, i) => put(1000 + i * 7919));
      await Promise.all(small.map((f, i) => c.deploy(`s/${i}.bin`, f, 'site-a', undefined, { unknownToTarget: true })));
      for (const [i, f] of small.entries()) await c.deploy(`t/${i}.bin`, f, 'site-a', undefined, { unknownToTarget: true });
      for (const [i, f] of small.entries()) {
        for (const prefix of ['s', 't']) expect(seen.find((r) => r.url === `/artifactory/libs/${prefix}/${i}.bin`)!.raw.equals(f.data)).toBe(true);
      }
      expect(streamed).toBe(0);
      // Over the limit, or a stored file shorter than the item says: streamed.
      const big = put((1 << 20) + 1);
      expect(await c.deploy('big.bin', big, 'site-a', undefined, { unknownToTarget: true })).toEqual({ body: true, bytes: big.size });
      expect(seen.at(-1)!.raw.equals(big.data)).toBe(true);
      expect(streamed).toBe(1);
      const short = put(10);
      files.set(short.sha1, Buffer.concat([short.data, Buffer.from('!')]));
      await c.deploy('short.bin', { ...short, size: 11 }, 'site-a', undefined, { unknownToTarget: true });
      expect(streamed).toBe(2);
      expect(seen.at(-1)!.raw.length).toBe(11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the status and never shows the password', async () => {
    const err = await client(undefined, 'wrong-password-xyz').deploy('a.txt', { sha1: '1'.repeat(40), size: 1 }, 's').catch((e: Error) => e);
    expect(String(err)).toContain('401');
    expect(String(err)).not.toContain('wrong-password-xyz');
  });

  it('refuses a target the address policy denies', async () => {
    const denied = new UpstreamNetwork(new AddressPolicy(['127.0.0.0/8'], []));
    const before = seen.length;
    await expect(client(denied).delete('a.txt', 's')).rejects.toThrow(/refused/);
    expect(seen.length).toBe(before);
    expect(matrixOf(undefined)).toBe('');
    denied.close();
  });
});
