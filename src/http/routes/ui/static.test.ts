import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../../../../test/helpers/node-context.js';
import type { AppContext } from '../../app-context.js';
import { errorHandler } from '../../error-handler.js';
import { findUiDir, uiRelativePath, uiStaticRoutes } from './static.js';

const INDEX = '<!doctype html><title>Arca</title><script type="module" src="/ui/assets/index-abc123.js"></script>';
const JS = 'console.log("hello from the ui");'.repeat(20);

describe('ui-static', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-ui-static-'));
  let app: FastifyInstance;

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), JS);
    writeFileSync(join(dir, 'assets', 'index-abc123.js.gz'), gzipSync(JS));
    writeFileSync(join(dir, 'assets', 'style-def456.css'), 'body{color:red}');
    app = Fastify();
    app.setErrorHandler(errorHandler);
    await app.register(async (scope) => uiStaticRoutes(scope, {} as AppContext, dir));
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at /ui/ with no-cache, a CSP and an ETag that revalidates', async () => {
    const res = await app.inject({ url: '/ui/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.body).toBe(INDEX);
    const again = await app.inject({ url: '/ui/', headers: { 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers client routes with index.html, and missing files with 404', async () => {
    for (const url of ['/ui/browse/libs-local/org/a', '/ui/admin/ha', '/ui/browse/x?y=1', '/ui/browse/libs-local/org/a/1.0/a-1.0.jar']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
    }
    for (const url of ['/ui/assets/missing.js', '/ui/favicon.png', '/ui/assets/other', '/ui/api/v1/nothing']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().errors[0].status).toBe(404);
    }
  });

  it('serves hashed assets with their type and a year-long immutable cache, gzipped when accepted', async () => {
    const plain = await app.inject({ url: '/ui/assets/index-abc123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(JS);
    const gz = await app.inject({ url: '/ui/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('accept-encoding');
    expect(gz.rawPayload.length).toBeLessThan(JS.length);
    const css = await app.inject({ url: '/ui/assets/style-def456.css', headers: { 'accept-encoding': 'gzip' } });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['content-encoding']).toBeUndefined();
    expect(css.body).toBe('body{color:red}');
  });

  it('never serves outside its folder', async () => {
    for (const url of ['/ui/..%2f..%2fetc%2fpasswd', '/ui/assets/..%2F..%2Findex.html', '/ui/%2e%2e/secret.txt']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
    }
    expect(uiRelativePath('/ui/a/%2e%2e/b')).toBeUndefined();
    expect(uiRelativePath('/ui/a/b%5cc')).toBeUndefined();
    expect(uiRelativePath('/ui/assets/x.js?v=1')).toEqual(['assets', 'x.js']);
    expect(uiRelativePath('/ui/')).toEqual([]);
  });

  it('redirects / and /ui to /ui/', async () => {
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/ui/');
    const ui = await app.inject({ url: '/ui' });
    expect(ui.statusCode).toBe(301);
    expect(ui.headers.location).toBe('/ui/');
  });

  it('finds dist/ui from a bundled chunk folder and from the source folder', () => {
    const project = mkdtempSync(join(tmpdir(), 'arca-ui-find-'));
    try {
      mkdirSync(join(project, 'dist', 'ui'), { recursive: true });
      mkdirSync(join(project, 'dist', 'chunks'));
      mkdirSync(join(project, 'src', 'http', 'routes'), { recursive: true });
      expect(findUiDir(join(project, 'dist', 'chunks'))).toBeUndefined();
      writeFileSync(join(project, 'dist', 'ui', 'index.html'), INDEX);
      expect(findUiDir(join(project, 'dist', 'chunks'))).toBe(join(project, 'dist', 'ui'));
      expect(findUiDir(join(project, 'dist'))).toBe(join(project, 'dist', 'ui'));
      expect(findUiDir(join(project, 'src', 'http', 'routes'))).toBe(join(project, 'dist', 'ui'));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('ui-static in the node app', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => node?.close());

  it('needs no credentials for the UI files, while the API still does', async () => {
    const ui = await node.request({ url: '/ui/admin/ha', headers: { authorization: '' } });
    // 200 when dist/ui is built, 404 naming the missing build otherwise; never a login challenge.
    expect([200, 404]).toContain(ui.statusCode);
    if (ui.statusCode === 404) expect(ui.json().errors[0].message).toContain('not built');
    else expect(ui.headers['content-type']).toContain('text/html');
    const apiCall = await node.request({ url: '/artifactory/api/repositories', headers: { authorization: '' } });
    expect(apiCall.statusCode).toBe(401);
    expect(apiCall.headers['www-authenticate']).toBe('Basic realm="Artifactory Realm"');
    const auth = await node.request({ url: '/ui/api/v1/ui/auth/current', headers: { authorization: '' } });
    expect(auth.statusCode).toBe(401);
  });

  it('answers the UI scripts (X-Requested-With) 401 without a Basic challenge, so the browser opens no dialog', async () => {
    const res = await node.request({ url: '/ui/api/v1/ui/auth/current', headers: { authorization: '', 'x-requested-with': 'XMLHttpRequest' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json().errors[0].status).toBe(401);
  });
});
