/**
 * Issue 12, item 5: authorise before reading the body, and bound the work of every body.
 * A real `arca start` with two workers; a read-only user, a writer, and anonymous access on.
 */
import { randomFillSync } from 'node:crypto';
import http from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { npmBombPublish, wheelBombUpload } from '../helpers/bombs.js';
import { ADMIN_AUTH, basic } from '../helpers/credentials.js';
import { headOnly } from '../helpers/head-only.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const READER = basic('reader', 'Reader-Passw0rd!');
const WRITER = basic('writer', 'Writer-Passw0rd!');
const REPOS = [
  ['npm-local', 'npm'],
  ['pypi-local', 'pypi'],
  ['docker-local', 'docker'],
  ['maven-local', 'maven'],
  ['generic-local', 'generic'],
] as const;
const MiB = 1024 * 1024;

let node: NodeProcess;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request on its own connection; the answer counts even if the server closes while the body is still going out. */
function send(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      { host: '127.0.0.1', port: node.port, method, path, agent: false, headers: { ...headers, ...(data ? { 'content-length': String(data.length) } : {}) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function admin(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await send(method, path, { authorization: ADMIN_AUTH, ...(text === undefined ? {} : { 'content-type': contentType }) }, text);
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return res;
}

function section(users: Record<string, string[]>) {
  return { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: REPOS.map(([k]) => k), actions: { users, groups: {} } };
}

/** The node's worker processes (children of the primary). */
function workers(): number[] {
  const pid = node.child.pid!;
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
}

function memoryKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

/** Pings every 20 ms until stopped; returns each round trip in ms. */
function pingLoop(): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = process.hrtime.bigint();
      const res = await send('GET', '/artifactory/api/system/ping', {});
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times;
    },
  };
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

beforeAll(async () => {
  node = await startNodeProcess({ workers: 2 });
  for (const [key, packageType] of REPOS) await admin('PUT', `/artifactory/api/repositories/${key}`, { rclass: 'local', packageType });
  await admin('PUT', '/artifactory/api/security/users/reader', { email: 'reader@example.com', password: 'Reader-Passw0rd!' });
  await admin('PUT', '/artifactory/api/security/users/writer', { email: 'writer@example.com', password: 'Writer-Passw0rd!' });
  await admin('PUT', '/artifactory/api/v2/security/permissions/readers', { name: 'readers', repo: section({ reader: ['read'], anonymous: ['read'] }) });
  await admin('PUT', '/artifactory/api/v2/security/permissions/writers', { name: 'writers', repo: section({ writer: ['read', 'write', 'annotate'] }) });
  await admin('PATCH', '/artifactory/api/system/configuration', 'security:\n  anonAccessEnabled: true\n', 'application/yaml');
}, 120_000);

afterAll(async () => {
  await node?.cleanup();
});

describe('item 5: the permission is checked from the headers, before the body', () => {
  const upload = `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
  // [what, method, path, content type, declared length, answer shape]
  const routes: Array<[string, string, string, string, number, 'npm' | 'text' | 'oci' | 'jfrog']> = [
    ['npm publish', 'PUT', '/artifactory/api/npm/npm-local/demo', 'application/json', 100 * MiB, 'npm'],
    ['npm dist-tag', 'PUT', '/artifactory/api/npm/npm-local/-/package/demo/dist-tags/beta', 'application/json', 32 * 1024, 'npm'],
    ['npm unpublish', 'PUT', '/artifactory/api/npm/npm-local/demo/-rev/1-0', 'application/json', 8 * MiB, 'npm'],
    ['PyPI upload', 'POST', '/artifactory/api/pypi/pypi-local', 'multipart/form-data; boundary=xyz', 100 * MiB, 'text'],
    ['OCI monolithic blob upload', 'POST', `/v2/docker-local/app/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`, 'application/octet-stream', 100 * MiB, 'oci'],
    ['OCI chunk upload', 'PATCH', `/v2/docker-local/app/blobs/uploads/${upload}`, 'application/octet-stream', 100 * MiB, 'oci'],
    ['OCI manifest push', 'PUT', '/v2/docker-local/app/manifests/v1', 'application/vnd.oci.image.manifest.v1+json', 3 * MiB, 'oci'],
    ['Maven deploy', 'PUT', '/artifactory/maven-local/org/acme/x/1.0/x-1.0.jar', 'application/java-archive', 100 * MiB, 'jfrog'],
    ['generic deploy', 'PUT', '/artifactory/generic-local/big.bin', 'application/octet-stream', 100 * MiB, 'jfrog'],
    ['properties', 'PUT', '/artifactory/api/storage/generic-local/big.bin?properties=a=1', 'application/octet-stream', 100 * MiB, 'jfrog'],
    ['repository', 'PUT', '/artifactory/api/repositories/new-local', 'application/json', 3 * MiB, 'jfrog'],
    ['user', 'PUT', '/artifactory/api/security/users/eve', 'application/json', 3 * MiB, 'jfrog'],
    ['group', 'PUT', '/artifactory/api/security/groups/eves', 'application/json', 3 * MiB, 'jfrog'],
    ['permission target', 'PUT', '/artifactory/api/v2/security/permissions/eve', 'application/json', 3 * MiB, 'jfrog'],
    ['system configuration', 'PATCH', '/artifactory/api/system/configuration', 'application/yaml', 3 * MiB, 'jfrog'],
    ['licenses', 'POST', '/artifactory/api/system/licenses', 'application/json', 3 * MiB, 'jfrog'],
    ['task run', 'POST', '/artifactory/api/system/tasks/gc/run', 'application/json', 3 * MiB, 'jfrog'],
  ];

  it.each([
    ['a read-only user', READER, 403],
    ['an anonymous caller', undefined, 401],
  ] as const)('answers %s at once, in the client format, and closes the connection the body would use', async (_who, authorization, expected) => {
    const answers = await Promise.all(
      routes.map(async ([what, method, path, type, length]) => ({
        what,
        a: await headOnly(node.port, method, path, { ...(authorization ? { authorization } : {}), 'content-type': type, 'content-length': String(length) }),
      })),
    );
    for (const [i, { what, a }] of answers.entries()) {
      const shape = routes[i][5];
      expect(a.status, `${what}: ${a.body}`).toBe(expected);
      // No byte of the body was sent: only a server that did not wait for it answers.
      expect(a.ms, what).toBeLessThan(3000);
      if (shape === 'npm') expect(typeof JSON.parse(a.body).error, what).toBe('string');
      if (shape === 'text') expect(a.headers['content-type'], what).toMatch(/^text\/plain/);
      if (shape === 'oci') expect(JSON.parse(a.body).errors[0].code, what).toBe(expected === 401 ? 'UNAUTHORIZED' : 'DENIED');
      if (shape === 'jfrog') expect(JSON.parse(a.body).errors[0].status, what).toBe(expected);
      if (expected === 401) expect(a.headers['www-authenticate'], what).toBeTruthy();
    }
    // The server does not go on reading a refused body: it closes the connection after a short linger.
    for (const { what, a } of answers) expect(await a.closed, what).toBeLessThan(6000);
  }, 60_000);
});

describe('item 5: bodies are bounded, decompression is streaming and bounded', () => {
  let npmBomb: Buffer;
  let wheel: { body: Buffer; contentType: string };

  beforeAll(async () => {
    // About 1.4 MB of publish whose tarball gunzips to 1 GiB; a 1 MB wheel whose METADATA inflates to 1 GiB.
    npmBomb = await npmBombPublish('bomb', '1.0.0');
    wheel = await wheelBombUpload('wbomb', '1.0');
    expect(npmBomb.length).toBeLessThan(2 * MiB);
    expect(wheel.body.length).toBeLessThan(2 * MiB);
  }, 120_000);

  it('refuses npm and wheel bombs with a 4xx while ping stays fast, stores nothing, and memory comes back', async () => {
    // Warm both workers up (a real publish, and each user's password checked and cached on
    // each worker: scrypt is meant to cost CPU), then take the reference.
    const warm = publishBody(packPackage({ name: 'warm', version: '1.0.0' }));
    expect((await send('PUT', '/artifactory/api/npm/npm-local/warm', { authorization: WRITER, 'content-type': 'application/json' }, JSON.stringify(warm))).status).toBe(201);
    for (let i = 0; i < 6; i++) {
      for (const auth of [READER, WRITER]) expect((await send('GET', '/artifactory/api/npm/npm-local/warm', { authorization: auth })).status).toBe(200);
    }
    const pids = workers();
    expect(pids).toHaveLength(2);
    const before = pids.map((p) => memoryKiB(p, 'VmRSS'));
    const reference = pingLoop();
    await new Promise((r) => setTimeout(r, 1500));
    const baseline = await reference.stop();

    const during = pingLoop();
    const npm = (auth: string) => send('PUT', '/artifactory/api/npm/npm-local/bomb', { authorization: auth, 'content-type': 'application/json' }, npmBomb);
    const pypi = (auth: string) => send('POST', '/artifactory/api/pypi/pypi-local/', { authorization: auth, 'content-type': wheel.contentType }, wheel.body);
    const answers = await Promise.all([npm(READER), npm(READER), npm(WRITER), npm(WRITER), pypi(READER), pypi(READER), pypi(WRITER), pypi(WRITER)]);
    await new Promise((r) => setTimeout(r, 300));
    const pings = await during.stop();

    for (const a of answers.slice(0, 2)) expect(a.status, a.text).toBe(403);
    for (const a of answers.slice(2, 4)) {
      expect(a.status, a.text).toBe(400);
      expect(JSON.parse(a.text).error).toMatch(/unpacks to more than/);
    }
    for (const a of answers.slice(4, 6)) expect(a.status, a.text).toBe(403);
    for (const a of answers.slice(6, 8)) {
      expect(a.status, a.text).toBe(400);
      expect(a.headers['content-type']).toMatch(/^text\/plain/);
      expect(a.text).toMatch(/METADATA' unpacks to more than/);
    }

    // ping stays under 100 ms: the median, and the 90th percentile unless the reference taken
    // just before (same machine, same load from others) was already slower. A worker that
    // inflated a bomb on its event loop would stall every ping it holds for seconds.
    const trace = `pings ${pings.map(Math.round).join(',')}; reference ${baseline.map(Math.round).join(',')}`;
    expect(pings.length).toBeGreaterThan(3);
    expect(percentile(pings, 50), trace).toBeLessThan(100);
    expect(percentile(pings, 90), trace).toBeLessThan(Math.max(100, 3 * percentile(baseline, 90)));
    expect(Math.max(...pings), trace).toBeLessThan(Math.max(750, 5 * Math.max(...baseline)));

    // Nothing stored.
    expect((await send('GET', '/artifactory/api/npm/npm-local/bomb', { authorization: ADMIN_AUTH })).status).toBe(404);
    expect((await send('GET', '/artifactory/api/pypi/pypi-local/simple/wbomb/', { authorization: ADMIN_AUTH })).status).toBe(404);
    expect((await send('GET', '/artifactory/api/storage/pypi-local/wbomb', { authorization: ADMIN_AUTH })).status).toBe(404);
    expect(readdirSync(join(node.home, 'data', 'tmp')).filter((f) => f.startsWith('upload-'))).toEqual([]);

    // Resident memory of both workers comes back near where it was.
    const deadline = Date.now() + 15_000;
    let after = pids.map((p) => memoryKiB(p, 'VmRSS'));
    while (after.some((kb, i) => kb > before[i] + 100 * 1024) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      after = pids.map((p) => memoryKiB(p, 'VmRSS'));
    }
    for (const [i, kb] of after.entries()) expect(kb, `worker ${pids[i]}: ${before[i]} kB before, ${kb} kB after`).toBeLessThan(before[i] + 100 * 1024);
  }, 180_000);

  it('streams a published tarball to staging instead of holding it', async () => {
    // 96 MiB of random base64 text: a tarball of about 72 MiB, a body of about 97 MiB of JSON.
    const size = 96 * MiB;
    const pkg = packPackage({ name: 'heavy', version: '1.0.0' }, { 'blob.txt': randomText(size) });
    const body = Buffer.from(JSON.stringify(publishBody(pkg)));
    const pids = workers();
    for (const p of pids) writeFileSync(`/proc/${p}/clear_refs`, '5'); // resets the peak (VmHWM) to the current RSS
    const start = pids.map((p) => memoryKiB(p, 'VmHWM'));
    const res = await send('PUT', '/artifactory/api/npm/npm-local/heavy', { authorization: WRITER, 'content-type': 'application/json' }, body);
    expect(res.status, res.text).toBe(201);
    const growth = pids.map((p, i) => memoryKiB(p, 'VmHWM') - start[i]);
    // Holding the body, its decoded tarball or the unpacked tarball would each take 70 MiB or more.
    expect(Math.max(...growth), `peak growth ${growth.join(', ')} kB`).toBeLessThan(64 * 1024);
    const tgz = await send('GET', '/artifactory/api/npm/npm-local/heavy/-/heavy-1.0.0.tgz', { authorization: READER });
    expect(tgz.status).toBe(200);
  }, 180_000);
});

/** `size` bytes of random base64 text (incompressible enough to keep the tarball near its size). */
function randomText(size: number): string {
  const bytes = Buffer.alloc(Math.ceil((size * 3) / 4));
  for (let i = 0; i < bytes.length; i += 65536) randomFillSync(bytes, i, Math.min(65536, bytes.length - i));
  return bytes.toString('base64').slice(0, size);
}
