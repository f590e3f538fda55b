import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw, streamingUpload } from '../helpers/raw-http.js';

const sha1 = (d: Buffer | string) => createHash('sha1').update(d).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createRepo(node: NodeProcess, key: string) {
  const res = await raw(node.url, {
    method: 'PUT',
    path: `/artifactory/api/repositories/${key}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
  });
  expect(res.status).toBe(200);
}

async function waitFor(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await sleep(50);
  return check();
}

describe('bad input (real process)', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess({ workers: 2 });
    await createRepo(node, 'generic-local');
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  describe('path traversal in any form answers 400 and touches nothing outside the store', () => {
    const sentinel = 'arca-traversal-sentinel.txt';
    it.each([
      ['dot-dot', `/artifactory/generic-local/../../../../tmp/${sentinel}`],
      ['encoded dot-dot', `/artifactory/generic-local/%2e%2e/%2e%2e/%2e%2e/tmp/${sentinel}`],
      ['mixed-case encoded', `/artifactory/generic-local/%2E%2E/%2E%2e/tmp/${sentinel}`],
      ['encoded slash', `/artifactory/generic-local/a%2f..%2f..%2f${sentinel}`],
      ['backslash', `/artifactory/generic-local/..\\..\\${sentinel}`],
      ['encoded backslash', `/artifactory/generic-local/..%5c..%5c${sentinel}`],
      ['NUL byte', `/artifactory/generic-local/a%00.txt`],
      ['single dot', `/artifactory/generic-local/./${sentinel}`],
      ['overlong path', `/artifactory/generic-local/${'a/'.repeat(700)}x.txt`],
      ['overlong segment', `/artifactory/generic-local/${'b'.repeat(300)}.txt`],
      ['bad percent-encoding', `/artifactory/generic-local/%E0%A4%A.txt`],
      ['dot-dot repo key', `/artifactory/../etc/${sentinel}`],
    ])('%s', async (_label, path) => {
      for (const method of ['PUT', 'GET', 'DELETE']) {
        const res = await raw(node.url, { method, path, body: method === 'PUT' ? 'evil' : undefined });
        expect(res.status, `${method} ${path.slice(0, 80)}`).toBe(400);
        expect(res.json().errors[0].status).toBe(400);
      }
      expect(existsSync(`/tmp/${sentinel}`)).toBe(false);
      expect(existsSync(join(node.home, sentinel))).toBe(false);
      expect(existsSync(join(node.home, 'data', sentinel))).toBe(false);
    });

    it('rejects traversal in the storage and search APIs too', async () => {
      const res = await raw(node.url, { path: '/artifactory/api/storage/generic-local/%2e%2e/%2e%2e/etc' });
      expect(res.status).toBe(400);
    });
  });

  it('answers 404 for an unknown repository on every verb', async () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      const res = await raw(node.url, { method, path: '/artifactory/nope-repo/file.txt', body: method === 'PUT' ? 'x' : undefined });
      expect(res.status, method).toBe(404);
    }
  });

  it('leaves nothing visible and no temp file when the client aborts mid-upload', async () => {
    const upload = streamingUpload(node.url, '/artifactory/generic-local/aborted/big.bin');
    await upload.write(randomBytes(1 << 20));
    await upload.write(randomBytes(1 << 20));
    await sleep(200);
    const tmp = join(node.home, 'data', 'tmp');
    expect(readdirSync(tmp).filter((n) => n.startsWith('upload-')).length).toBeGreaterThan(0);
    upload.abort();
    expect(await waitFor(() => readdirSync(tmp).filter((n) => n.startsWith('upload-')).length === 0)).toBe(true);
    expect((await raw(node.url, { path: '/artifactory/generic-local/aborted/big.bin' })).status).toBe(404);
    expect((await raw(node.url, { path: '/artifactory/generic-local/aborted/' })).status).toBe(404);
  });

  it('concurrent deploys to one path: the last complete one wins, never a mix', async () => {
    const path = '/artifactory/generic-local/race/file.bin';
    // A slow upload starts first and completes last…
    const slowData = randomBytes(512 * 1024);
    const slow = streamingUpload(node.url, path);
    await slow.write(slowData.subarray(0, 1024));
    // …while a fast one of other content starts later and completes first.
    const fastData = randomBytes(512 * 1024);
    expect((await raw(node.url, { method: 'PUT', path, body: fastData })).status).toBe(201);
    expect(sha1((await raw(node.url, { path })).body)).toBe(sha1(fastData));
    await slow.write(slowData.subarray(1024));
    expect((await slow.end()).status).toBe(201);
    const after = await raw(node.url, { path });
    expect(sha1(after.body)).toBe(sha1(slowData));
    expect(after.headers['x-checksum-sha1']).toBe(sha1(slowData));

    // A burst of writers: the stored file is always exactly one of them, with matching checksums.
    const bodies = Array.from({ length: 12 }, () => randomBytes(64 * 1024 + Math.floor(Math.random() * 4096)));
    const results = await Promise.all(bodies.map((b) => raw(node.url, { method: 'PUT', path, body: b })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const final = await raw(node.url, { path });
    const digest = sha1(final.body);
    expect(bodies.map(sha1)).toContain(digest);
    expect(final.headers['x-checksum-sha1']).toBe(digest);
    expect(final.headers['content-length']).toBe(String(final.body.length));
  });

  it('rejects invalid JSON and invalid configuration naming the field', async () => {
    const bad = await raw(node.url, { method: 'PUT', path: '/artifactory/api/repositories/x-repo', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(bad.status).toBe(400);
    const field = await raw(node.url, {
      method: 'PUT',
      path: '/artifactory/api/repositories/x-repo',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', handleReleases: 'yes' }),
    });
    expect(field.status).toBe(400);
    expect(field.json().errors[0].message).toContain("'handleReleases'");
  });
});

/** A file store on a tiny tmpfs: a full disk must answer a clear error and leave nothing half-visible. */
describe('full disk (real process, file store on a 4 MiB tmpfs)', () => {
  let node: NodeProcess | undefined;
  let mountPoint: string | undefined;
  let reason: string | undefined;

  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'arca-fulldisk-home-'));
    mountPoint = mkdtempSync(join(tmpdir(), 'arca-fulldisk-store-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    } catch (err) {
      reason = `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}); the full-disk case needs root or CAP_SYS_ADMIN`;
      console.warn(`[skip] full disk: ${reason}`);
      return;
    }
    mkdirSync(join(home, 'etc'), { recursive: true });
    writeFileSync(
      join(home, 'etc', 'binarystore.xml'),
      `<config version="1"><chain template="file-system"/><provider id="file-system" type="file-system"><baseDataDir>${mountPoint}</baseDataDir></provider></config>\n`,
    );
    node = await startNodeProcess({ home, workers: 1 });
    await createRepo(node, 'small-local');
  });
  afterAll(async () => {
    await node?.cleanup();
    if (node) rmSync(node.home, { recursive: true, force: true });
    if (mountPoint && !reason) execFileSync('umount', [mountPoint]);
    if (mountPoint) rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers 507 with a clear message, stores nothing, and works again afterwards', async (t) => {
    if (reason) t.skip(reason);
    const res = await raw(node!.url, { method: 'PUT', path: '/artifactory/small-local/huge.bin', body: randomBytes(8 * 1024 * 1024) });
    expect(res.status).toBe(507);
    expect(res.json().errors[0].message).toMatch(/space/i);
    expect((await raw(node!.url, { path: '/artifactory/small-local/huge.bin' })).status).toBe(404);
    expect(readdirSync(join(mountPoint!, 'tmp')).filter((n) => n.startsWith('upload-'))).toEqual([]);
    const small = await raw(node!.url, { method: 'PUT', path: '/artifactory/small-local/small.bin', body: randomBytes(1024) });
    expect(small.status).toBe(201);
  });
});
