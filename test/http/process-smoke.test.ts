import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDatabaseConfig } from '../helpers/databases.js';
import { basic } from '../helpers/node-context.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw } from '../helpers/raw-http.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * The whole API surface once, against a real two-worker `arca start` on each database:
 * security (users, permission targets, tokens, API keys), deploy with properties, the storage
 * API, searches, metrics. The per-area suites go deeper in-process.
 */
describe.each(DIALECTS)('real process on %s', (dialect) => {
  let node: NodeProcess;
  let drop: () => Promise<void>;
  const call = (req: Parameters<typeof raw>[1]) => raw(node.url, req);

  beforeAll(async () => {
    const fresh = await freshDatabaseConfig(dialect);
    drop = fresh.drop;
    const home = mkdtempSync(join(tmpdir(), 'arca-smoke-'));
    mkdirSync(join(home, 'etc'), { recursive: true });
    if (dialect !== 'sqlite') writeFileSync(join(home, 'etc', 'db.properties'), `type=${dialect}\nurl=${fresh.url}\npool.max.active=10\n`);
    node = await startNodeProcess({ home, workers: 2 });
    expect((await call({ method: 'PUT', path: '/artifactory/api/repositories/libs-local', ...json({ rclass: 'local', packageType: 'generic' }) })).status).toBe(200);
  });
  afterAll(async () => {
    await node?.cleanup();
    await drop?.();
  });

  it('serves a non-admin user exactly what a permission target grants', async () => {
    expect((await call({ method: 'PUT', path: '/artifactory/api/security/users/dev', ...json({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).status).toBe(201);
    const target = {
      name: 'dev-libs',
      repo: { 'include-patterns': ['team/**'], 'exclude-patterns': [], repositories: ['libs-local'], actions: { users: { dev: ['read', 'write', 'annotate'] } } },
    };
    expect((await call({ method: 'POST', path: '/artifactory/api/v2/security/permissions/dev-libs', ...json(target) })).status).toBe(201);
    const dev = basic('dev', 'Dev-passw0rd!');
    // Workers poll the security version every second; allow the other worker to catch up.
    await new Promise((r) => setTimeout(r, 1200));
    expect((await call({ method: 'PUT', path: '/artifactory/libs-local/team/a.txt;build=7;team=core', headers: { authorization: dev }, body: 'team file' })).status).toBe(201);
    expect((await call({ method: 'PUT', path: '/artifactory/libs-local/other/a.txt', headers: { authorization: dev }, body: 'x' })).status).toBe(403);
    expect((await call({ path: '/artifactory/libs-local/team/a.txt', headers: { authorization: dev } })).text()).toBe('team file');
    // write without delete: no overwrite, no delete
    expect((await call({ method: 'PUT', path: '/artifactory/libs-local/team/a.txt', headers: { authorization: dev }, body: 'again' })).status).toBe(403);
    expect((await call({ method: 'DELETE', path: '/artifactory/libs-local/team/a.txt', headers: { authorization: dev } })).status).toBe(403);
  });

  it('reads properties from matrix parameters and finds the file by name, checksum and property', async () => {
    const props = await call({ path: '/artifactory/api/storage/libs-local/team/a.txt?properties' });
    expect(props.status).toBe(200);
    expect(props.json().properties).toEqual({ build: ['7'], team: ['core'] });
    const info = await call({ path: '/artifactory/api/storage/libs-local/team/a.txt' });
    expect(info.json()).toMatchObject({ repo: 'libs-local', path: '/team/a.txt', size: '9', checksums: { sha1: createHash('sha1').update('team file').digest('hex') } });
    const byName = await call({ path: '/artifactory/api/search/artifact?name=a.txt&repos=libs-local' });
    expect(byName.json().results.map((r: { uri: string }) => r.uri)).toEqual([`${node.base}/api/storage/libs-local/team/a.txt`]);
    const sha256 = createHash('sha256').update('team file').digest('hex');
    expect((await call({ path: `/artifactory/api/search/checksum?sha256=${sha256}` })).json().results).toHaveLength(1);
    expect((await call({ path: '/artifactory/api/search/prop?team=core' })).json().results).toHaveLength(1);
    const list = await call({ path: '/artifactory/api/storage/libs-local/?list&deep=1' });
    expect(list.json().files.map((f: { uri: string }) => f.uri)).toContain('/team/a.txt');
  });

  it('issues an access token and an API key that authenticate on every worker', async () => {
    const token = await call({ method: 'POST', path: '/access/api/v1/tokens', ...json({ username: 'admin', scope: 'applied-permissions/admin', expires_in: 600 }) });
    expect(token.status).toBe(200);
    const bearer = `Bearer ${token.json().access_token}`;
    for (let i = 0; i < 6; i++) expect((await call({ path: '/artifactory/api/repositories', headers: { authorization: bearer } })).status).toBe(200);
    const key = await call({ method: 'POST', path: '/artifactory/api/security/apiKey' });
    expect(key.status).toBe(201);
    for (let i = 0; i < 6; i++) {
      expect((await call({ path: '/artifactory/api/repositories', headers: { 'x-jfrog-art-api': key.json().apiKey }, anonymous: true })).status).toBe(200);
    }
    const revoke = await call({ method: 'DELETE', path: `/access/api/v1/tokens/${token.json().token_id}` });
    expect([200, 204]).toContain(revoke.status);
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 4; i++) expect((await call({ path: '/artifactory/api/repositories', headers: { authorization: bearer } })).status).toBe(401);
  });

  it('merges the metrics of both workers', async () => {
    const text = (await call({ path: '/artifactory/api/v1/metrics' })).text();
    const puts = /arca_http_requests_total\{method="PUT",status="201"\} (\d+)/.exec(text);
    expect(Number(puts?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).toContain('arca_binaries_count 1');
  });
});
