import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

describe.each(DIALECTS)('system endpoints on %s', (dialect) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode(dialect);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers ping with OK without credentials, and every response names the node', async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/system/ping', headers: { authorization: '' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('OK');
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.headers['x-artifactory-node-id']).toBe('test-node');
  });

  it('reports version, readiness and liveness', async () => {
    const v = await node.request({ method: 'GET', url: '/artifactory/api/system/version' });
    expect(v.json()).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), revision: expect.any(String), addons: expect.any(Array) });
    expect(v.json().license).toBeUndefined();
    for (const url of ['/artifactory/api/v1/system/readiness', '/artifactory/api/v1/system/liveness', '/router/api/v1/system/health']) {
      const r = await node.request({ method: 'GET', url, headers: { authorization: '' } });
      expect(r.statusCode, url).toBe(200);
      expect(r.json()).toEqual({ code: 'OK' });
    }
    node.ctx.state.draining = true;
    const draining = await node.request({ method: 'GET', url: '/artifactory/api/v1/system/readiness', headers: { authorization: '' } });
    expect(draining.statusCode).toBe(503);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/v1/system/liveness', headers: { authorization: '' } })).statusCode).toBe(200);
    node.ctx.state.draining = false;
  });

  it('lists the node registry at /api/system/status (admin)', async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/system/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json().nodes).toEqual([
      {
        id: 'test-node',
        state: 'RUNNING',
        role: 'STANDALONE',
        url: null,
        startTime: expect.any(String),
        lastHeartbeat: expect.any(String),
        version: node.ctx.node.version.version,
        revision: expect.any(String),
        releaseDate: expect.any(String),
        membershipPort: 0,
        taskAffinity: 'any',
      },
    ]);
    expect(res.json().masterKeyFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/system/status', headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('exposes Prometheus metrics to admins only', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/m-local', payload: { rclass: 'local' } });
    await node.request({ method: 'PUT', url: '/artifactory/m-local/a.bin', payload: Buffer.alloc(1234, 1) });
    await node.request({ method: 'GET', url: '/artifactory/m-local/a.bin' });
    const res = await node.request({ method: 'GET', url: '/artifactory/api/v1/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
    const text = res.body;
    expect(text).toMatch(/arca_http_requests_total\{method="PUT",status="201"\} \d+/);
    expect(text).toMatch(/arca_http_request_duration_seconds_bucket\{method="GET",le="\+Inf"\} \d+/);
    expect(text).toMatch(/arca_http_received_bytes_total \d+/);
    expect(text).toMatch(/arca_http_sent_bytes_total \d+/);
    expect(text).toContain('arca_binaries_count 1');
    expect(text).toContain('arca_binaries_bytes 1234');
    expect(text).toMatch(/arca_db_pool_connections\{state="max"\} \d+/);
    const anon = await node.request({ method: 'GET', url: '/artifactory/api/v1/metrics', headers: { authorization: '' } });
    expect(anon.statusCode).toBe(401);
  });

  it('switches anonymous access on and off through the YAML configuration patch', async () => {
    const before = await node.request({ method: 'GET', url: '/artifactory/api/repositories', headers: { authorization: '' } });
    expect(before.statusCode).toBe(401);
    const patch = await node.request({
      method: 'PATCH',
      url: '/artifactory/api/system/configuration',
      headers: { 'content-type': 'application/yaml' },
      payload: 'security:\n  anonAccessEnabled: true\n',
    });
    expect(patch.statusCode).toBe(200);
    const after = await node.request({ method: 'GET', url: '/artifactory/api/repositories', headers: { authorization: '' } });
    expect(after.statusCode).toBe(200);
    const xml = await node.request({ method: 'GET', url: '/artifactory/api/system/configuration' });
    expect(xml.body).toContain('<anonAccessEnabled>true</anonAccessEnabled>');
    await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: 'security: {anonAccessEnabled: false}' });
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories', headers: { authorization: '' } })).statusCode).toBe(401);
    const bad = await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: 'security: {anonAccessEnabled: maybe}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toContain('security.anonAccessEnabled');
  });

  it('uses the custom URL base in absolute URLs', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/system/configuration/baseUrl', headers: { 'content-type': 'text/plain' }, payload: 'https://repo.example.com/artifactory/' });
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/u-local', payload: { rclass: 'local' } });
    const res = await node.request({ method: 'PUT', url: '/artifactory/u-local/x.txt', payload: 'x' });
    expect(res.json().downloadUri).toBe('https://repo.example.com/artifactory/u-local/x.txt');
    expect(res.headers.location).toBe('https://repo.example.com/artifactory/u-local/x.txt');
    await node.request({ method: 'PUT', url: '/artifactory/api/system/configuration/baseUrl', headers: { 'content-type': 'text/plain' }, payload: '' });
  });

  it('runs garbage collection on demand and frees unreferenced binaries', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/gc-local', payload: { rclass: 'local' } });
    const put = await node.request({ method: 'PUT', url: '/artifactory/gc-local/tmp.bin', payload: Buffer.alloc(777, 9) });
    const sha1 = put.json().checksums.sha1;
    await node.request({ method: 'DELETE', url: '/artifactory/gc-local/tmp.bin' });
    // The delete moved it to the trash can, which still references the binary; deleted there, it is unreferenced.
    expect((await node.request({ method: 'DELETE', url: '/artifactory/auto-trashcan/gc-local/tmp.bin' })).statusCode).toBe(204);
    // Inside the grace window nothing is collected…
    expect((await node.request({ method: 'POST', url: '/artifactory/api/system/storage/gc' })).json().binariesRemoved).toBe(0);
    expect(await node.ctx.content.provider.exists(sha1)).toBe(true);
    // …after it, the binary goes.
    const removed = await node.ctx.content.collectGarbage(-60_000);
    expect(removed.binariesRemoved).toBeGreaterThanOrEqual(1);
    expect(await node.ctx.content.provider.exists(sha1)).toBe(false);
  });

  it('answers ping 503 when the data directory cannot be written', async () => {
    rmSync(join(node.home, 'data', 'tmp'), { recursive: true, force: true });
    const res = await node.request({ method: 'GET', url: '/artifactory/api/system/ping', headers: { authorization: '' } });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('File system access failed');
    const ready = await node.request({ method: 'GET', url: '/artifactory/api/v1/system/readiness', headers: { authorization: '' } });
    expect(ready.statusCode).toBe(503);
  });
});

describe('ping when PostgreSQL refuses connections', () => {
  it('answers 503 while the database is unreachable and OK once it is back', async () => {
    const node = await startTestNode('postgresql');
    const cfg = node.ctx.dbConfig.pg!;
    const dbName = cfg.database!;
    const { inject } = await import('vitest');
    const admin = new pg.Client({ connectionString: inject('pgUrl') });
    await admin.connect();
    try {
      await admin.query(`alter database ${dbName} with allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [dbName]);
      const down = await node.request({ method: 'GET', url: '/artifactory/api/system/ping', headers: { authorization: '' } });
      expect(down.statusCode).toBe(503);
      expect(down.body).toContain('Database access failed');
      await admin.query(`alter database ${dbName} with allow_connections true`);
      // Back within a few seconds (a ping's database check is bounded in time, and a loaded
      // machine can make the first one after the outage run out of it).
      let up = await node.request({ method: 'GET', url: '/artifactory/api/system/ping', headers: { authorization: '' } });
      for (const deadline = Date.now() + 10_000; up.statusCode !== 200 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 200));
        up = await node.request({ method: 'GET', url: '/artifactory/api/system/ping', headers: { authorization: '' } });
      }
      expect(up.statusCode, up.body).toBe(200);
    } finally {
      await admin.query(`alter database ${dbName} with allow_connections true`).catch(() => undefined);
      await admin.end();
      await node.close();
    }
  });
});
