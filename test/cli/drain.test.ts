import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw, streamingUpload } from '../helpers/raw-http.js';

const nodes: NodeProcess[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGTERM: readiness first, then drain, then stop', () => {
  it('turns readiness to 503 at once, serves on for the drain delay, then refuses connections and finishes in-flight uploads', async () => {
    const node = await startNodeProcess({ env: { ARCA_SHUTDOWNDRAINSECS: '2' } });
    nodes.push(node);
    const put = await raw(node.url, { method: 'PUT', path: '/artifactory/api/repositories/drain-local', headers: { 'content-type': 'application/json' }, body: '{"rclass":"local"}' });
    expect(put.status).toBe(200);
    expect((await raw(node.url, { path: '/artifactory/api/v1/system/readiness', anonymous: true })).status).toBe(200);

    // An upload in flight across the whole shutdown.
    const upload = streamingUpload(node.url, '/artifactory/drain-local/in-flight.bin');
    await upload.write(Buffer.alloc(64 * 1024, 1));

    const exited = new Promise<number | null>((r) => node.child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    node.child.kill('SIGTERM');

    // Readiness answers 503 within moments…
    let readiness = 0;
    while (Date.now() - t0 < 1000) {
      const r = await raw(node.url, { path: '/artifactory/api/v1/system/readiness', anonymous: true });
      readiness = r.status;
      if (readiness === 503) {
        expect(r.json()).toEqual({ code: 'UNAVAILABLE', message: 'draining' });
        break;
      }
      await sleep(20);
    }
    expect(readiness).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1000);

    // …while ordinary requests are still served, each closing its connection.
    const ping = await raw(node.url, { path: '/artifactory/api/system/ping', anonymous: true });
    expect(ping.status).toBe(200);
    expect(ping.headers.connection).toBe('close');
    await upload.write(Buffer.alloc(64 * 1024, 2));

    // After the drain delay the node stops accepting connections.
    let refusedAt = 0;
    while (Date.now() - t0 < 6000) {
      const r = await raw(node.url, { path: '/artifactory/api/system/ping', anonymous: true }).catch((e: NodeJS.ErrnoException) => e);
      if (r instanceof Error) {
        // A connection that reached the accept queue as the listener closed is reset rather
        // than refused: either way the node no longer serves it.
        expect(['ECONNREFUSED', 'ECONNRESET']).toContain(r.code);
        refusedAt = Date.now() - t0;
        break;
      }
      expect(r.status).toBe(200);
      await sleep(50);
    }
    expect(refusedAt).toBeGreaterThanOrEqual(1900);
    expect(refusedAt).toBeLessThan(4000);

    // The upload that was in flight completes.
    await upload.write(Buffer.alloc(64 * 1024, 3));
    const done = await upload.end();
    expect(done.status).toBe(201);
    expect(await exited).toBe(0);
    expect(node.output()).toContain('readiness answers 503');
  }, 30_000);

  it('drains a multi-worker node even when each worker also gets the signal directly (systemd, Ctrl-C)', async () => {
    const node = await startNodeProcess({ workers: 2, env: { ARCA_SHUTDOWNDRAINSECS: '2' } });
    nodes.push(node);
    const workers = execFileSync('pgrep', ['-P', String(node.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    expect(workers).toHaveLength(2);
    const exited = new Promise<number | null>((r) => node.child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    // As a service manager signalling the whole control group: the supervisor and every worker.
    for (const pid of [node.child.pid!, ...workers]) process.kill(pid, 'SIGTERM');
    await sleep(1000);
    for (let i = 0; i < 4; i++) {
      expect((await raw(node.url, { path: '/artifactory/api/v1/system/readiness', anonymous: true })).status).toBe(503);
      expect((await raw(node.url, { path: '/artifactory/api/system/ping', anonymous: true })).status).toBe(200);
    }
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  }, 30_000);

  it('stops at once on a standalone node without a drain delay', async () => {
    const node = await startNodeProcess();
    nodes.push(node);
    const t0 = Date.now();
    expect(await node.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(node.output()).toContain('"drainMs":0');
  });
});
