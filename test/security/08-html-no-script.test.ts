/**
 * Issue 12, item 8: Arca's own HTML cannot carry script.
 *
 * A hostile upstream PyPI index (a local fake upstream) serves a simple page whose links use
 * `javascript:`, `data:` and `vbscript:` in plain and obfuscated spellings, and whose file
 * names and attributes try to break out of Arca's markup. A remote PyPI repository of a real
 * `arca start` process proxies it, and Debian's Chromium (driven by playwright-core, never a
 * downloaded browser) opens Arca's page: no script may run (a clicked `javascript:` link, an
 * inline `<script>`, an `onerror` attribute), and the valid files must still be listed. HTML
 * files kept in (or proxied by) a repository, and every other page Arca serves, carry a
 * restrictive Content-Security-Policy and `X-Content-Type-Options: nosniff`, so even HTML
 * Arca does not write runs no script on its origin.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const CHROMIUM = process.env.ARCA_CHROMIUM ?? '/usr/bin/chromium';
const skipReason = existsSync(CHROMIUM) ? undefined : `no chromium at ${CHROMIUM} (apt-get install chromium)`;
if (skipReason) console.warn(`[skip] 08-html-no-script: ${skipReason}`);

/** Every attack logs this marker (and marks the document) when it runs. */
const MARK = 'ARCA-XSS';
const run = (id: string) => `console.log('${MARK}-${id}');document.documentElement.setAttribute('data-xss','${id}')`;
const SHA = 'b'.repeat(64);

/** The hostile simple page of project `evil`. */
function hostilePage(): string {
  const js = (id: string) => `javascript:${run(id)}`;
  const links = [
    // Schemes that run script, plainly and hidden behind entities, control characters and case.
    [js('link'), 'evil-0.1.tar.gz'],
    [js('upper').replace('javascript', 'JaVaScRiPt'), 'evil-0.2.tar.gz'],
    [`java&#x09;script:${run('tab')}`, 'evil-0.3.tar.gz'],
    [`&#x6A;&#x61;&#x76;&#x61;script:${run('entity')}`, 'evil-0.4.tar.gz'],
    [`&#1;&#32;javascript:${run('control')}`, 'evil-0.5.tar.gz'],
    [`java&#10;script:${run('newline')}`, 'evil-0.6.tar.gz'],
    [`data:text/html;base64,${Buffer.from(`<script>${run('data')}</script>`).toString('base64')}`, 'evil-0.7.tar.gz'],
    [`vbscript:msgbox("${MARK}")`, 'evil-0.8.tar.gz'],
    // Valid links: relative (rewritten to Arca's own) and absolute elsewhere.
    [`../../packages/evil-1.0.tar.gz#sha256=${SHA}`, 'evil-1.0.tar.gz'],
    ['https://files.example/evil/evil-2.0-py3-none-any.whl', 'evil-2.0-py3-none-any.whl'],
    // A file name and attributes that try to break out of Arca's markup.
    [`../../packages/evil-3.0.tar.gz%22%3E%3Cimg%20src%3Dx%20onerror%3D%22${encodeURIComponent(run('name'))}%22%3E`, 'x'],
  ];
  const anchors = links.map(([href, text]) => `<a href="${href.replace(/"/g, '&quot;')}" onerror="${run('attr')}">${text}</a><br/>`);
  anchors.push(`<a href="../../packages/evil-4.0.tar.gz" data-requires-python="&quot;&gt;&lt;script&gt;${run('requires')}&lt;/script&gt;">evil-4.0.tar.gz</a>`);
  return `<!DOCTYPE html><html><head><script>${run('inline')}</script></head><body onload="${run('onload')}">
<h1>Links for evil</h1>
${anchors.join('\n')}
<img src="x" onerror="${run('img')}">
</body></html>`;
}

/** A stored HTML file that would run script anywhere without the policy. */
const HTML_FILE = `<!DOCTYPE html><html><head><script>${run('stored-inline')}</script></head><body><img src="x" onerror="${run('stored-onerror')}"><a id="go" href="javascript:${run('stored-link')}">go</a></body></html>`;

describe.skipIf(!!skipReason)('08 Arca serves no HTML that runs script', () => {
  let up: FakeUpstream;
  let node: NodeProcess;
  let browser: Browser;
  let context: BrowserContext;
  const marks: string[] = [];

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${node.base}${path}`, { ...init, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', ...((init.headers as Record<string, string>) ?? {}) } });

  beforeAll(async () => {
    up = await new FakeUpstream().start();
    up.on('/simple/evil/', { status: 200, body: hostilePage(), headers: { 'content-type': 'text/html; charset=utf-8' } });
    up.on('/files/page.html', { status: 200, body: HTML_FILE, headers: { 'content-type': 'text/html' } });
    node = await startNodeProcess({ workers: 1 });
    for (const [key, body] of [
      ['pypi-remote', { rclass: 'remote', packageType: 'pypi', url: up.url }],
      ['html-local', { rclass: 'local', packageType: 'generic' }],
      ['html-remote', { rclass: 'remote', packageType: 'generic', url: `${up.url}/files` }],
    ] as const) {
      const res = await api(`/api/repositories/${key}`, { method: 'PUT', body: JSON.stringify(body) });
      expect(res.status, await res.text()).toBe(200);
    }
    const put = await api('/html-local/docs/page.html', { method: 'PUT', body: HTML_FILE, headers: { 'content-type': 'text/html' } });
    expect(put.status).toBe(201);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    context = await browser.newContext({ extraHTTPHeaders: { authorization: ADMIN_AUTH } });
    context.setDefaultTimeout(10_000);
  }, 180_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await node?.cleanup();
    await up?.stop();
  });

  beforeEach(() => {
    marks.length = 0;
  });

  /** A page that records every marker a script logs, and every dialog it opens. */
  async function watched(): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.text().includes(MARK)) marks.push(msg.text());
    });
    page.on('dialog', (d) => {
      marks.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    return page;
  }

  async function open(url: string): Promise<Page> {
    const page = await watched();
    const res = await page.goto(url, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    return page;
  }

  async function scriptRan(page: Page): Promise<boolean> {
    await page.waitForTimeout(300);
    return marks.length > 0 || (await page.locator('html[data-xss]').count()) > 0;
  }

  it('lists the valid files of a hostile upstream page and drops every link that is not http(s) or relative', async () => {
    const page = await open(`${node.base}/api/pypi/pypi-remote/simple/evil/`);
    const links = await page.$$eval('a', (as) => as.map((a) => ({ text: a.textContent ?? '', href: a.getAttribute('href') ?? '', resolved: (a as unknown as { protocol: string }).protocol })));
    // Every link Arca wrote is http(s) (relative links resolve to Arca's own origin).
    for (const l of links) expect(l.resolved, `${l.text} -> ${l.href}`).toMatch(/^https?:$/);
    const texts = links.map((l) => l.text);
    expect(texts).toEqual(expect.arrayContaining(['evil-1.0.tar.gz', 'evil-2.0-py3-none-any.whl', 'evil-4.0.tar.gz']));
    expect(texts.filter((t) => /^evil-0\.\d\.tar\.gz$/.test(t))).toEqual([]);
    const valid = links.find((l) => l.text === 'evil-1.0.tar.gz')!;
    expect(valid.href).toBe(`../../packages/evil-1.0.tar.gz#sha256=${SHA}`);
    // The file name that tried to close the attribute is text, not markup.
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(0);
    expect(await scriptRan(page)).toBe(false);
    await page.close();
  });

  it('runs nothing when every link of the page is clicked', async () => {
    const page = await open(`${node.base}/api/pypi/pypi-remote/simple/evil/`);
    // Links that would leave the page (downloads, other hosts) are not followed: only what could run here is clicked.
    const count = await page.locator('a').count();
    for (let i = 0; i < count; i++) {
      const a = page.locator('a').nth(i);
      const protocol = await a.evaluate((el) => (el as unknown as { protocol: string }).protocol);
      if (protocol === 'http:' || protocol === 'https:') continue;
      await a.click({ timeout: 2_000 }).catch(() => undefined);
    }
    expect(await scriptRan(page), marks.join('\n')).toBe(false);
    await page.close();
  });

  it('serves HTML kept in or proxied by a repository so that no script of it runs on the origin of Arca', async () => {
    for (const url of [`${node.base}/html-local/docs/page.html`, `${node.base}/html-remote/page.html`]) {
      const page = await watched();
      // Files are sent as attachments (the browser downloads them); where a browser renders one
      // anyway, the policy of the response keeps its script from running.
      const rendered = await page.goto(url, { waitUntil: 'load' }).then(
        () => true,
        (err: Error) => {
          if (/Download is starting/.test(err.message)) return false;
          throw err;
        },
      );
      if (rendered) await page.locator('#go').click({ timeout: 2_000 }).catch(() => undefined);
      expect(await scriptRan(page), `${url}: ${marks.join('\n')}`).toBe(false);
      await page.close();
    }
  });

  it('puts the restrictive policy and nosniff on every page Arca serves, and its own policy on the web UI', async () => {
    const pages = [
      '/api/pypi/pypi-remote/simple/',
      '/api/pypi/pypi-remote/simple/evil/',
      '/html-local/',
      '/html-local/docs/',
      '/html-local/docs/page.html',
      '/html-remote/page.html',
      '/html-local/no/such/file',
      '/api/repositories/no-such-repo',
      '/api/no/such/route',
      // Refused by Fastify itself, before any hook runs.
      '/api/repositories/%ZZ',
    ];
    for (const path of pages) {
      const res = await api(path, { headers: { accept: 'text/html' } });
      await res.arrayBuffer();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain('sandbox');
      expect(csp, path).not.toContain('script-src');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    const ui = await fetch(`${node.url}/ui/`);
    await ui.arrayBuffer();
    if (ui.status === 200) {
      expect(ui.headers.get('content-type')).toContain('text/html');
      expect(ui.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(ui.headers.get('content-security-policy')).not.toContain('sandbox');
    }
  });
});
