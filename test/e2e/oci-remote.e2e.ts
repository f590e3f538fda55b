import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { sha256 } from '../http/oci-client.js';
import { DOCKER_REGISTRY, RecordingProxy, startDockerRegistry, type RegistryProcess } from '../http/oci-remote-upstreams.js';
import { layoutBlob, layoutHasBlob, layoutRef, OciLayout, type Described } from './harness/oci-layout.js';

/**
 * skopeo pulls through a remote docker repository that proxies the CNCF registry (Debian
 * `docker-registry`), and through a virtual repository over it and a local one, on a real
 * `arca start` process: the images are copied into the CNCF registry with skopeo first, then
 * out of Arca into `oci:` layouts and compared blob by blob; a second pull is served from
 * Arca's cache while the registry is stopped.
 */

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
const CREDS = `admin:${ADMIN_PASSWORD}`;
const missing = !SKOPEO ? 'skopeo is not installed (apt-get install skopeo)' : !DOCKER_REGISTRY ? 'docker-registry is not installed (apt-get install docker-registry)' : undefined;
if (missing) console.warn(`[skip] remote/virtual OCI e2e: ${missing}`);

function skopeo(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SKOPEO!, args, { timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`skopeo ${args.join(' ')}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${base}/artifactory${path}`, {
    method,
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}: ${await res.text()}`).toBeLessThan(300);
}

describe.skipIf(missing !== undefined)('skopeo through remote and virtual docker repositories (real node process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-oci-remote-e2e-'));
  const src = join(dir, 'src');
  let registry: RegistryProcess;
  let proxy: RecordingProxy;
  let arca: NodeProcess;
  let app: Described;
  let index: Described;
  let platforms: Described[];
  const upstreamRef = (image: string) => `docker://${new URL(proxy.url).host}/${image}`;
  const arcaRef = (repo: string, image: string) => `docker://127.0.0.1:${arca.port}/${repo}/${image}`;
  const pull = (repo: string, image: string, out: string, all = false) =>
    skopeo('copy', ...(all ? ['--all'] : []), '--src-tls-verify=false', '--src-creds', CREDS, arcaRef(repo, image), `oci:${out}:pulled`);

  beforeAll(async () => {
    const layout = new OciLayout(src);
    app = layout.image({ os: 'linux', architecture: 'amd64' }, [{ 'hello.txt': 'from the CNCF registry\n' }, { 'etc/remote.conf': `made in ${dir}\n` }]);
    layout.tag('app', app);
    platforms = ['amd64', 'arm64'].map((architecture) => layout.image({ os: 'linux', architecture }, [{ 'arch.txt': `${architecture}\n` }]));
    index = layout.index(platforms.map((m, i) => ({ manifest: m, platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] } })));
    layout.tag('multi', index);
    registry = await startDockerRegistry();
    proxy = await new RecordingProxy(registry.url).start();
    await skopeo('copy', '--dest-tls-verify=false', `oci:${src}:app`, `${upstreamRef('team/app')}:v1`);
    await skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${src}:multi`, `${upstreamRef('team/multi')}:latest`);
    arca = await startNodeProcess();
    await api(arca.url, 'PUT', '/api/repositories/docker-remote', { rclass: 'remote', packageType: 'docker', url: proxy.url, retrievalCachePeriodSecs: 0, assumedOfflinePeriodSecs: 0 });
    await api(arca.url, 'PUT', '/api/repositories/docker-local', { rclass: 'local', packageType: 'docker' });
    await api(arca.url, 'PUT', '/api/repositories/docker-virtual', { rclass: 'virtual', packageType: 'docker', repositories: ['docker-local', 'docker-remote'], defaultDeploymentRepo: 'docker-local' });
  }, 120_000);
  afterAll(async () => {
    await arca?.cleanup();
    await proxy?.stop();
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls an image through the remote repository, blob for blob the same', async () => {
    const out = join(dir, 'remote-out');
    await pull('docker-remote', 'team/app:v1', out);
    expect(layoutRef(out, 'pulled')?.digest).toBe(app.digest);
    const manifest = JSON.parse(layoutBlob(out, app.digest).toString()) as { config: Described; layers: Described[] };
    for (const b of [manifest.config, ...manifest.layers]) expect(layoutBlob(out, b.digest).equals(layoutBlob(src, b.digest))).toBe(true);
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', CREDS, arcaRef('docker-remote', 'team/app:v1'));
    expect(sha256(raw.trim())).toBe(app.digest);
    const tags = JSON.parse(await skopeo('list-tags', '--tls-verify=false', '--creds', CREDS, arcaRef('docker-remote', 'team/app')));
    expect(tags.Tags).toEqual(['v1']);
  });

  it('pulls a multi-platform index with --all through the remote repository', async () => {
    const out = join(dir, 'remote-multi');
    await pull('docker-remote', 'team/multi:latest', out, true);
    expect(layoutRef(out, 'pulled')?.digest).toBe(index.digest);
    for (const m of platforms) expect(layoutHasBlob(out, m.digest)).toBe(true);
  });

  it('pulls through the virtual repository: the remote member, and a local image pushed through the virtual one', async () => {
    const out = join(dir, 'virtual-out');
    await pull('docker-virtual', 'team/app:v1', out);
    expect(layoutRef(out, 'pulled')?.digest).toBe(app.digest);
    await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${src}:app`, `${arcaRef('docker-virtual', 'mine/app')}:v1`);
    const local = await fetch(`${arca.url}/v2/docker-local/mine/app/manifests/v1`, { headers: { authorization: ADMIN_AUTH, accept: app.mediaType } });
    expect([local.status, local.headers.get('docker-content-digest')]).toEqual([200, app.digest]);
    const back = join(dir, 'virtual-local-out');
    await pull('docker-virtual', 'mine/app:v1', back);
    expect(layoutRef(back, 'pulled')?.digest).toBe(app.digest);
  });

  it('serves the cached image while the CNCF registry is stopped', async () => {
    await registry.stop();
    const out = join(dir, 'cached-out');
    await pull('docker-remote', 'team/app:v1', out);
    expect(layoutRef(out, 'pulled')?.digest).toBe(app.digest);
    const viaVirtual = join(dir, 'cached-virtual-out');
    await pull('docker-virtual', 'team/app:v1', viaVirtual);
    expect(layoutRef(viaVirtual, 'pulled')?.digest).toBe(app.digest);
  });
});
