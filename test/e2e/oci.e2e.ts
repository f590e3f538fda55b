import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { sha256, type OciTarget } from '../http/oci-client.js';
import { ociConformance } from '../http/oci-conformance.js';
import { NGINX, TestCluster } from './harness/cluster.js';
import { startDedicatedPostgres } from './harness/dedicated-pg.js';
import { layoutBlob, layoutHasBlob, layoutRef, OciLayout, type Described } from './harness/oci-layout.js';

/**
 * The real registry clients against real `arca start` processes: skopeo copies an OCI layout
 * built by hand into Arca and back out to `oci:` and `dir:`, as OCI and as Docker schema 2
 * (`--format v2s2`), and a multi-platform index with `--all`; podman pulls and pushes (vfs
 * storage in a temp root, as root). Once on one node; once through nginx in front of a
 * three-node cluster on PostgreSQL, which also runs the OCI conformance suite, continues a
 * chunked upload across nodes, and serves a pull after a node is killed.
 */

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
const PODMAN = ['/usr/bin/podman', '/usr/local/bin/podman'].find((p) => existsSync(p));
const ROOT = process.getuid?.() === 0;
const CREDS = `admin:${ADMIN_PASSWORD}`;
const REPO = 'docker-local';

if (!SKOPEO) console.warn('[skip] OCI e2e with real clients: skopeo is not installed (apt-get install skopeo)');
if (!PODMAN || !ROOT) console.warn(`[skip] podman e2e steps: ${!PODMAN ? 'podman is not installed (apt-get install podman)' : 'they need root (vfs storage in a temp root)'}`);

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  expect(r.code, `${cmd} ${args.join(' ')}\n${r.out}`).toBe(0);
  return r.out;
}

const skopeo = (...args: string[]) => ok(SKOPEO!, args);

async function createRepo(base: string): Promise<void> {
  const res = await fetch(`${base}/artifactory/api/repositories/${REPO}`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'docker' }),
  });
  expect(res.status, await res.text()).toBe(200);
}

/** The OCI conformance suite's target over real HTTP. */
function httpTarget(base: () => string): OciTarget {
  return {
    repoKey: REPO,
    close: async () => undefined,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { authorization: ADMIN_AUTH, ...(opts.headers ?? {}) };
      if (headers.authorization === '') delete headers.authorization;
      const res = await fetch(`${base()}${path}`, { method, headers, body: opts.body, redirect: 'manual' });
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => (out[k] = v));
      return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
    },
  };
}

/** Two platforms, an index over them, and a plain image, in one layout. */
function buildLayout(dir: string) {
  const layout = new OciLayout(dir);
  const app = layout.image({ os: 'linux', architecture: 'amd64' }, [{ 'hello.txt': 'hello from arca\n' }, { 'etc/app.conf': `built ${dir}\n` }]);
  layout.tag('v1', app);
  const arm = layout.image({ os: 'linux', architecture: 'arm64' }, [{ 'arch.txt': 'arm64\n' }]);
  const amd = layout.image({ os: 'linux', architecture: 'amd64' }, [{ 'arch.txt': 'amd64\n' }]);
  const index = layout.index([
    { manifest: amd, platform: { os: 'linux', architecture: 'amd64' } },
    { manifest: arm, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  layout.tag('multi', index);
  return { app, arm, amd, index };
}

function clientFlow(label: string, host: () => string) {
  describe.skipIf(!SKOPEO)(`skopeo and podman through ${label}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-oci-e2e-'));
    const src = join(dir, 'src');
    let built: ReturnType<typeof buildLayout>;
    const ref = (image: string, tag: string) => `docker://${host()}/${REPO}/${image}:${tag}`;
    beforeAll(() => {
      built = buildLayout(src);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('copies an OCI image in and back out to oci: and dir:, unchanged', async () => {
      await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${src}:v1`, ref('e2e/app', 'v1'));
      const raw = await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', CREDS, ref('e2e/app', 'v1'));
      expect(sha256(raw.trim())).toBe(built.app.digest);
      const out = join(dir, 'out-oci');
      await skopeo('copy', '--src-tls-verify=false', '--src-creds', CREDS, ref('e2e/app', 'v1'), `oci:${out}:v1`);
      expect(layoutRef(out, 'v1')?.digest).toBe(built.app.digest);
      const manifest = JSON.parse(layoutBlob(out, built.app.digest).toString()) as { config: Described; layers: Described[] };
      for (const b of [manifest.config, ...manifest.layers]) expect(layoutBlob(out, b.digest).equals(layoutBlob(src, b.digest))).toBe(true);
      const plain = join(dir, 'out-dir');
      await skopeo('copy', '--src-tls-verify=false', '--src-creds', CREDS, ref('e2e/app', 'v1'), `dir:${plain}`);
      expect(readFileSync(join(plain, 'manifest.json')).equals(layoutBlob(src, built.app.digest))).toBe(true);
      for (const l of manifest.layers) expect(readdirSync(plain)).toContain(l.digest.slice(7));
    });

    it('pushes as Docker schema 2 with --format v2s2 and pulls it back', async () => {
      await skopeo('copy', '--format', 'v2s2', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${src}:v1`, ref('e2e/app', 'v2s2'));
      const raw = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', CREDS, ref('e2e/app', 'v2s2')));
      expect(raw.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(raw.layers[0].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
      const plain = join(dir, 'out-v2s2');
      await skopeo('copy', '--src-tls-verify=false', '--src-creds', CREDS, ref('e2e/app', 'v2s2'), `dir:${plain}`);
      expect(JSON.parse(readFileSync(join(plain, 'manifest.json'), 'utf8')).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      const tags = JSON.parse(await skopeo('list-tags', '--tls-verify=false', '--creds', CREDS, `docker://${host()}/${REPO}/e2e/app`));
      expect(tags.Tags).toEqual(['v1', 'v2s2']);
    });

    it('copies a multi-platform index with --all, and a client picks its platform', async () => {
      await skopeo('copy', '--all', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${src}:multi`, ref('e2e/multi', 'latest'));
      const raw = await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', CREDS, ref('e2e/multi', 'latest'));
      expect(sha256(raw.trim())).toBe(built.index.digest);
      const arm = JSON.parse(await skopeo('inspect', '--override-arch', 'arm64', '--tls-verify=false', '--creds', CREDS, ref('e2e/multi', 'latest')));
      expect(arm.Architecture).toBe('arm64');
      const out = join(dir, 'out-multi');
      await skopeo('copy', '--all', '--src-tls-verify=false', '--src-creds', CREDS, ref('e2e/multi', 'latest'), `oci:${out}:multi`);
      expect(layoutRef(out, 'multi')?.digest).toBe(built.index.digest);
      for (const m of [built.amd, built.arm]) expect(layoutHasBlob(out, m.digest)).toBe(true);
    });

    it.skipIf(!PODMAN || !ROOT)('podman pulls and pushes (vfs storage)', async () => {
      const root = join(dir, 'podman');
      const podman = (...args: string[]) =>
        ok(PODMAN!, ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', '--events-backend', 'file', ...args]);
      const image = `${host()}/${REPO}/e2e/app:v1`;
      await podman('pull', '--tls-verify=false', '--creds', CREDS, image);
      const id = (await podman('images', '--quiet', '--no-trunc', image)).trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      await podman('push', '--tls-verify=false', '--creds', CREDS, image, `docker://${host()}/${REPO}/e2e/pushed:p1`);
      const pushed = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--creds', CREDS, ref('e2e/pushed', 'p1')));
      expect(pushed.Architecture).toBe('amd64');
      expect(pushed.Layers).toHaveLength(2);
    });
  });
}

describe('OCI e2e on one node', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess();
    await createRepo(node.url);
  }, 60_000);
  afterAll(async () => {
    await node?.cleanup();
  });
  clientFlow('a single node', () => `127.0.0.1:${node.port}`);

  it.skipIf(!SKOPEO)('pulls anonymously through the token service when anonymous access is on, and refuses an anonymous push', async () => {
    const admin = { authorization: ADMIN_AUTH, 'content-type': 'application/json' };
    const conf = await fetch(`${node.url}/artifactory/api/system/configuration`, {
      method: 'PATCH',
      headers: { ...admin, 'content-type': 'application/yaml' },
      body: 'security:\n  anonAccessEnabled: true\n',
    });
    expect(conf.status).toBe(200);
    const perm = await fetch(`${node.url}/artifactory/api/v2/security/permissions/anon-docker`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ name: 'anon-docker', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: [REPO], actions: { users: { anonymous: ['read'] } } } }),
    });
    expect(perm.status).toBeLessThan(300);
    const host = `127.0.0.1:${node.port}`;
    const dir = mkdtempSync(join(tmpdir(), 'arca-oci-e2e-anon-'));
    try {
      const layout = new OciLayout(join(dir, 'src'));
      layout.tag('v1', layout.image({ os: 'linux', architecture: 'arm64' }, [{ 'anon.txt': 'anonymous\n' }]));
      await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${join(dir, 'src')}:v1`, `docker://${host}/${REPO}/e2e/public:v1`);
      const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${host}/${REPO}/e2e/public:v1`));
      expect(info.Architecture).toBe('arm64');
      const push = await run(SKOPEO!, ['copy', '--dest-tls-verify=false', `oci:${join(dir, 'src')}:v1`, `docker://${host}/${REPO}/e2e/anon:v1`]);
      expect(push.code).not.toBe(0);
      expect(push.out).toMatch(/unauthorized|authentication required/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (!NGINX) console.warn('[skip] OCI e2e through a cluster: nginx is not installed');

describe.skipIf(!NGINX)('OCI e2e through the nginx balancer of a three-node cluster', () => {
  let pg: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  let cluster: TestCluster;
  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    cluster = new TestCluster({ type: 'postgresql', url: pg.url }, 3);
    await cluster.create();
    await cluster.startAll();
    await cluster.startNginx();
    await createRepo(cluster.lbUrl);
  }, 240_000);
  afterAll(async () => {
    await cluster?.destroy();
    await pg?.destroy();
  }, 60_000);

  ociConformance('a three-node cluster behind nginx', async () => httpTarget(() => cluster.lbUrl));

  it('continues a chunked upload started on one node through the two others', async () => {
    const [a, b, c] = cluster.nodes.map((n) => httpTarget(() => n.url));
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const start = await a.request('POST', `/v2/${REPO}/e2e/chunks/blobs/uploads/`);
    expect(start.status).toBe(202);
    const loc = String(start.headers.location);
    const p1 = await b.request('PATCH', loc, { headers: { 'content-range': `0-${2 * 1024 * 1024 - 1}` }, body: data.subarray(0, 2 * 1024 * 1024) });
    expect(p1.status).toBe(202);
    const status = await c.request('GET', loc);
    expect([status.status, status.headers.range]).toEqual([204, `0-${2 * 1024 * 1024 - 1}`]);
    const done = await c.request('PUT', `${loc}?digest=${sha256(data)}`, { body: data.subarray(2 * 1024 * 1024) });
    expect(done.status).toBe(201);
    const got = await a.request('GET', `/v2/${REPO}/e2e/chunks/blobs/${sha256(data)}`);
    expect([got.status, got.body.equals(data)]).toEqual([200, true]);
  });

  clientFlow('the balancer', () => `127.0.0.1:${cluster.lbPort}`);

  it.skipIf(!SKOPEO)('serves a pull through the balancer after a node is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-oci-e2e-kill-'));
    try {
      const src = join(dir, 'src');
      const layout = new OciLayout(src);
      const big = layout.image({ os: 'linux', architecture: 'amd64' }, [{ 'big.bin': 'x'.repeat(4 * 1024 * 1024) }, { 'small.txt': 'after the kill\n' }]);
      layout.tag('v1', big);
      const host = `127.0.0.1:${cluster.lbPort}`;
      await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${src}:v1`, `docker://${host}/${REPO}/e2e/survivor:v1`);
      await cluster.kill(cluster.nodes[1]);
      for (let i = 0; i < 3; i++) {
        const out = join(dir, `out-${i}`);
        await skopeo('copy', '--src-tls-verify=false', '--src-creds', CREDS, `docker://${host}/${REPO}/e2e/survivor:v1`, `oci:${out}:v1`);
        expect(layoutRef(out, 'v1')?.digest).toBe(big.digest);
      }
      if (PODMAN && ROOT) {
        const root = join(dir, 'podman');
        await ok(PODMAN, ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', '--events-backend', 'file', 'pull', '--tls-verify=false', '--creds', CREDS, `${host}/${REPO}/e2e/survivor:v1`]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
