import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeningNode } from '../../src/formats/testing/conformance-node.js';
import type { ConformanceNode } from '../../src/formats/testing/format-conformance.js';

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const sha = (d: string) => createHash('sha256').update(d).digest('hex');

interface SimpleDoc {
  meta: Record<string, string>;
  files: { filename: string; url: string }[];
  projects: { name: string }[];
}
const json = async (res: Response | Promise<Response>) => (await (await res).json()) as SimpleDoc;

/**
 * A stand-in for another index (not Arca): PEP 503 HTML pages whose file links point at
 * its own `/packages/` or at another host, and a count of requests per path.
 */
function fakeIndex(): Promise<{ server: Server; url: string; hits: Map<string, number>; accept: string[] }> {
  const hits = new Map<string, number>();
  const accept: string[] = [];
  const files: Record<string, string> = { '/files/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl': 'wheel bytes 1.0', '/files/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl.metadata': 'Metadata-Version: 2.1\nName: shiny-tool\nVersion: 1.0\n' };
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    accept.push(String(req.headers.accept));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (path === '/index/simple/shiny-tool/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>
<a href="${base}/files/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl#sha256=${sha('wheel bytes 1.0')}" data-requires-python="&gt;=3.9" data-dist-info-metadata="sha256=${sha(files['/files/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl.metadata'])}">shiny_tool-1.0-py3-none-any.whl</a><br/>
<a href="https://elsewhere.example/dl/shiny_tool-0.9.tar.gz#md5=00" data-yanked="broken">shiny_tool-0.9.tar.gz</a>
</body></html>`);
      return;
    }
    if (path === '/index/simple/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body><a href="/index/simple/shiny-tool/">Shiny_Tool</a><a href="/index/simple/other/">other</a></body></html>');
      return;
    }
    if (files[path]) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(files[path]);
      return;
    }
    res.writeHead(404).end('not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits, accept })));
}

describe('PyPI remote and virtual repositories', () => {
  let node: ConformanceNode;
  let index: Awaited<ReturnType<typeof fakeIndex>>;
  const call = (path: string, init: RequestInit = {}) => fetch(`${node.base}${path}`, { ...init, headers: { authorization: node.auth, ...(init.headers ?? {}) } });
  const repo = async (key: string, config: Record<string, unknown>) => {
    const res = await call(`/api/repositories/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, packageType: 'pypi', ...config }) });
    expect(res.status, await res.text()).toBe(200);
  };

  beforeAll(async () => {
    [node, index] = await Promise.all([startListeningNode(), fakeIndex()]);
    // JFrog's model: files under `url`, pages at `pyPIRegistryUrl` + `pyPIRepositorySuffix`.
    await repo('py-remote', { rclass: 'remote', url: `${index.url}/files`, pyPIRegistryUrl: `${index.url}/index`, pyPIRepositorySuffix: 'simple', retrievalCachePeriodSecs: 3600 });
    await repo('py-local', { rclass: 'local' });
    await repo('py-virtual', { rclass: 'virtual', repositories: ['py-remote', 'py-local'], defaultDeploymentRepo: 'py-local' });
  });
  afterAll(async () => {
    await node?.close();
    index?.server.close();
  });

  it('rewrites links to files below the upstream url to itself; others stay as written', async () => {
    const res = await call('/api/pypi/py-remote/simple/shiny-tool/', { headers: { accept: JSON_TYPE } });
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc.meta['api-version']).toBe('1.0');
    expect(doc.files).toEqual([
      expect.objectContaining({
        filename: 'shiny_tool-1.0-py3-none-any.whl',
        url: '../../packages/ab/cd/shiny_tool-1.0-py3-none-any.whl',
        hashes: { sha256: sha('wheel bytes 1.0') },
        'requires-python': '>=3.9',
        'core-metadata': { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        yanked: false,
      }),
      expect.objectContaining({ filename: 'shiny_tool-0.9.tar.gz', url: 'https://elsewhere.example/dl/shiny_tool-0.9.tar.gz', hashes: {}, yanked: 'broken' }),
    ]);
    expect(index.accept[0]).toContain('application/vnd.pypi.simple.v1+json');
    const html = await (await call('/api/pypi/py-remote/simple/shiny-tool/')).text();
    expect(html).toContain(`href="../../packages/ab/cd/shiny_tool-1.0-py3-none-any.whl#sha256=${sha('wheel bytes 1.0')}" data-requires-python="&gt;=3.9"`);
    expect(html).toContain('data-yanked="broken"');
  });

  it('caches pages for retrievalCachePeriodSecs and files for good', async () => {
    const before = index.hits.get('/index/simple/shiny-tool/') ?? 0;
    await (await call('/api/pypi/py-remote/simple/shiny-tool/')).text();
    expect(index.hits.get('/index/simple/shiny-tool/')).toBe(before);
    for (let i = 0; i < 2; i++) {
      const file = await call('/api/pypi/py-remote/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl');
      expect(file.status).toBe(200);
      expect(await file.text()).toBe('wheel bytes 1.0');
    }
    expect(index.hits.get('/files/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl')).toBe(1);
    const meta = await call('/api/pypi/py-remote/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl.metadata');
    expect(await meta.text()).toContain('Name: shiny-tool');
    // The cache, addressed as {key}-cache, answers without the upstream.
    const cached = await call('/api/pypi/py-remote-cache/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl');
    expect(cached.status).toBe(200);
    expect((await call('/api/pypi/py-remote-cache/packages/ab/cd/never-fetched-1.0.tar.gz')).status).toBe(404);
    // The page cache is not reachable as a package.
    expect((await call('/api/pypi/py-remote/packages/.pypi/simple/shiny-tool.page')).status).toBe(404);
  });

  it('lists the upstream projects, normalised, and 404s what the upstream lacks', async () => {
    const root = await json(call('/api/pypi/py-remote/simple/', { headers: { accept: JSON_TYPE } }));
    expect(root.projects).toEqual([{ name: 'other' }, { name: 'shiny-tool' }]);
    const missing = await call('/api/pypi/py-remote/simple/not-there/');
    expect(missing.status).toBe(404);
  });

  it('refuses uploads to a remote repository with 405', async () => {
    const res = await call('/api/pypi/py-remote', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--\r\n' });
    expect(res.status).toBe(405);
    expect(await res.text()).toContain('read-only');
  });

  it('merges local and remote pages in a virtual repository and serves files through it', async () => {
    const boundary = 'b0undary';
    const content = Buffer.from('sdist bytes');
    const form = [
      ...[[':action', 'file_upload'], ['name', 'shiny-tool'], ['version', '2.0'], ['filetype', 'sdist']].map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="shiny_tool-2.0.tar.gz"\r\n\r\n`,
    ].join('');
    // Not a gzip file: refused, and nothing lands in the defaultDeploymentRepo.
    const bad = await call('/api/pypi/py-virtual', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat([Buffer.from(form), content, Buffer.from(`\r\n--${boundary}--\r\n`)]) });
    expect(bad.status).toBe(400);
    const gz = Buffer.concat([Buffer.from([0x1f, 0x8b]), content]);
    const ok = await call('/api/pypi/py-virtual', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat([Buffer.from(form), gz, Buffer.from(`\r\n--${boundary}--\r\n`)]) });
    expect(ok.status, await ok.text()).toBe(200);
    expect((await call('/api/storage/py-local/shiny-tool/2.0/shiny_tool-2.0.tar.gz')).status).toBe(200);

    const doc = await json(call('/api/pypi/py-virtual/simple/shiny-tool/', { headers: { accept: JSON_TYPE } }));
    expect(doc.files.map((f) => f.filename)).toEqual(['shiny_tool-0.9.tar.gz', 'shiny_tool-1.0-py3-none-any.whl', 'shiny_tool-2.0.tar.gz']);
    const local = doc.files.find((f) => f.filename === 'shiny_tool-2.0.tar.gz')!;
    expect(local.url).toBe('../../packages/shiny-tool/2.0/shiny_tool-2.0.tar.gz');
    const viaVirtual = await call('/api/pypi/py-virtual/packages/shiny-tool/2.0/shiny_tool-2.0.tar.gz');
    expect(Buffer.from(await viaVirtual.arrayBuffer()).equals(gz)).toBe(true);
    const remoteFile = await call('/api/pypi/py-virtual/packages/ab/cd/shiny_tool-1.0-py3-none-any.whl');
    expect(await remoteFile.text()).toBe('wheel bytes 1.0');
    const root = await json(call('/api/pypi/py-virtual/simple/', { headers: { accept: JSON_TYPE } }));
    expect(root.projects).toEqual([{ name: 'other' }, { name: 'shiny-tool' }]);
  });

  it('keeps serving a virtual page when a remote member fails', async () => {
    await repo('py-dead', { rclass: 'remote', url: 'http://127.0.0.1:9/none', retrievalCachePeriodSecs: 0, socketTimeoutMillis: 2000 });
    await repo('py-virtual-2', { rclass: 'virtual', repositories: ['py-dead', 'py-local'] });
    const res = await call('/api/pypi/py-virtual-2/simple/shiny-tool/', { headers: { accept: JSON_TYPE } });
    expect(res.status).toBe(200);
    expect((await json(res)).files.map((f) => f.filename)).toEqual(['shiny_tool-2.0.tar.gz']);
    const direct = await call('/api/pypi/py-dead/simple/shiny-tool/');
    expect(direct.status).toBe(502);
  });
});
