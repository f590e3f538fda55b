import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { BIG_COUNT, READER, rest, seed, storedZip, type BrowseNode } from './ui/browse-fixtures.js';
import { auditPage, launchBrowser, screenshot } from './ui/browser.js';
import { startUiCluster, uiSkipReason } from './ui/ui-cluster.js';

/**
 * Browse in Debian's chromium through nginx in front of a three-node cluster (issue 19): a virtual repository's merged tree
 * with the member of each entry; the folder table (natural sort, filter, copy, internal files
 * hidden); the tree by keyboard (arrows, Home/End, type-ahead); every item action as admin and
 * none of the write actions as a read-only user (deploy with target folder, properties and
 * Maven coordinates read from a jar; delete; copy with a dry run; move; properties recursive on
 * a folder; text view; archive entries; folder download; download statistics); axe-core on
 * every view; 1366×768 and 390×844 screenshots; no console errors; and the time from
 * navigation to the first rows of a folder of 10,000 files (printed; the target is 300 ms).
 */

const WIDE = { width: 1366, height: 768 };
const NARROW = { width: 390, height: 844 };

const skipReason = uiSkipReason;
if (skipReason) console.warn(`[skip] Browse UI e2e: ${skipReason}`);

/**
 * axe-core (default rules) with zero violations and no sideways scrolling, at 1366×768 and
 * 390×844, light and dark (the shared auditPage, which also takes the screenshots
 * `browse-{view}-{desktop|phone}-{light|dark}.png`).
 */
async function axeClean(page: Page, view: string): Promise<void> {
  const audit = await auditPage(page, `browse-${view.replace(/\W+/g, '-')}`);
  expect(audit.violations, `axe on ${view}`).toEqual([]);
  expect(audit.overflow, `sideways scrolling on ${view}`).toEqual([]);
}

/** No sideways scroll of the page itself (wide tables scroll inside their wrapper). */
async function noSidewaysScroll(page: Page, view: string): Promise<void> {
  const over = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
  expect(over, `page wider than the viewport on ${view}`).toBeLessThanOrEqual(0);
}

async function login(context: BrowserContext, url: string, user: string, password: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/ui/`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  return page;
}

// In-page code is written as strings: the test's TypeScript has no DOM types.
const rowNames = (page: Page) => page.evaluate('[...document.querySelectorAll(\'[data-testid="folder-table"] tbody tr[data-name]\')].map((r) => r.getAttribute("data-name"))') as Promise<string[]>;
const focusedPath = (page: Page) => page.evaluate('document.activeElement?.getAttribute("data-path")') as Promise<string | null>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function properties(node: BrowseNode, path: string): Promise<Record<string, string[]>> {
  const res = await fetch(`${node.base}/api/storage/${path}?properties&allowEmpty=1`, { headers: { authorization: ADMIN_AUTH } });
  return ((await res.json()) as { properties: Record<string, string[]> }).properties;
}

const exists = async (node: BrowseNode, path: string) => (await fetch(`${node.base}/api/storage/${path}`, { headers: { authorization: ADMIN_AUTH } })).status === 200;

describe.skipIf(!!skipReason)('Browse in a real browser', () => {
  let node: BrowseNode;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const shot = (name: string) => screenshot(page, `browse-${name}`);
  const open = async (path: string) => {
    await page.goto(`${node.url}/ui/browse/${path}`);
    await page.locator('.item-details .card').first().waitFor();
    // Polled through page.evaluate: waitForFunction's string form needs eval, which the UI's CSP refuses.
    await expect.poll(() => page.evaluate('!document.querySelector(\'.item-details [aria-busy="true"]\')')).toBe(true);
  };

  beforeAll(async () => {
    const cluster = await startUiCluster();
    node = { url: cluster.url, base: `${cluster.url}/artifactory`, stop: () => cluster.stop(), output: () => cluster.cluster.nodes.map((n) => n.output).join('\n') };
    await seed(node.url);
    browser = await launchBrowser();
    admin = await browser.newContext({ viewport: WIDE, acceptDownloads: true });
    admin.setDefaultTimeout(15_000);
    page = await login(admin, node.url, 'admin', ADMIN_PASSWORD);
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
  });

  it('shows a virtual repository as its members’ merged tree, each entry marked with its member', async () => {
    await open('b-virtual/a');
    await expect.poll(() => rowNames(page)).toEqual(['cached.txt', 'one.txt', 'two.txt']);
    const from = async (name: string) => (await page.locator(`tr[data-name="${name}"] .members`).innerText()).trim();
    expect(await from('one.txt')).toBe('b-local');
    expect(await from('two.txt')).toBe('b-local2');
    expect(await from('cached.txt')).toBe('b-remote');
    const tree = page.getByRole('tree', { name: 'Repositories' });
    expect(await tree.locator('li[data-path="b-virtual/a/two.txt"] .member').innerText()).toBe('b-local2');
    expect(await tree.locator('li[data-path="b-virtual/a/cached.txt"] .member').innerText()).toBe('b-remote');
    // A folder in several members lists them all; its content is the union.
    await open('b-virtual/shared');
    await expect.poll(async () => (await rowNames(page)).sort()).toEqual(['from-local.txt', 'from-local2.txt']);
    expect(await page.getByRole('tree').locator('li[data-path="b-virtual/shared"] .member').innerText()).toBe('b-local + b-local2');
    await axeClean(page, 'virtual folder');
    await shot('virtual-folder');
    await open('b-virtual/a/two.txt');
    expect(await page.getByTestId('resolved-repo').innerText()).toContain('b-local2');
    await axeClean(page, 'virtual file');
    await shot('virtual-file');
  });

  it('lists a folder as a sortable, filterable table in natural version order', async () => {
    await open('b-local/lib');
    await expect.poll(() => rowNames(page)).toEqual(['1.2.0', '1.9.0', '1.10.0']);
    await page.getByRole('button', { name: 'Name', exact: true }).click();
    expect(await page.locator('th[aria-sort="descending"]').innerText()).toContain('Name');
    await expect.poll(() => rowNames(page)).toEqual(['1.10.0', '1.9.0', '1.2.0']);
    await page.getByLabel('Filter this folder').fill('1.1');
    await expect.poll(() => rowNames(page)).toEqual(['1.10.0']);
    await page.getByLabel('Filter this folder').fill('');
    // Long names: ellipsised, the full name on hover, a copy button.
    await open('b-local/long');
    const name = `${'a-very-long-file-name-that-goes-on-'.repeat(4)}end.txt`;
    const link = page.locator(`tr[data-name="${name}"] a.ellipsis`);
    expect(await link.getAttribute('title')).toBe(name);
    await page.getByRole('button', { name: `Copy the name ${name}` }).click();
    await page.locator(`tr[data-name="${name}"] button.copy[data-copy-state="copied"]`).waitFor();
    // The shared CopyButton shows "✓ Copied" for two seconds under its "Copy …" name (axe: label-content-name-mismatch); audit once it is back.
    await page.locator(`tr[data-name="${name}"] button.copy[data-copy-state="idle"]`).waitFor();
    await axeClean(page, 'folder table');
    await shot('folder-table');
  });

  it('hides storage internals (OCI _uploads/, blob files) unless asked', async () => {
    await open('b-docker/img');
    await expect.poll(() => rowNames(page)).toContain('1.0');
    expect(await rowNames(page)).not.toContain('_uploads');
    await page.getByLabel(/Show internal files/).check();
    await expect.poll(() => rowNames(page)).toContain('_uploads');
    await page.getByLabel(/Show internal files/).uncheck();
    await open('b-docker/img/1.0');
    await expect.poll(() => rowNames(page)).toContain('manifest.json');
    const names = await rowNames(page);
    expect(names.some((n) => n!.startsWith('sha256__'))).toBe(false);
    await axeClean(page, 'docker folder');
  });

  it('operates the tree by keyboard: arrows, Home/End, type-ahead, Enter', async () => {
    await page.goto(`${node.url}/ui/browse`);
    await page.getByTestId('browse-repos').getByRole('link', { name: 'b-virtual', exact: true }).waitFor();
    await axeClean(page, 'landing');
    const tree = page.getByRole('tree', { name: 'Repositories' });
    await tree.locator('li[role="treeitem"]').first().focus();
    await page.keyboard.press('End');
    expect(await focusedPath(page)).toBe('b-virtual/');
    await page.keyboard.press('Home');
    expect(await focusedPath(page)).toBe('b-docker/');
    await page.keyboard.type('b-loc');
    expect(await focusedPath(page)).toBe('b-local/');
    await page.keyboard.press('ArrowDown');
    expect(await focusedPath(page)).toBe('b-local2/');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowRight');
    await tree.locator('li[data-path="b-local/a"]').waitFor();
    expect(await tree.locator('li[data-path="b-local/"]').getAttribute('aria-expanded')).toBe('true');
    await page.keyboard.press('ArrowRight');
    expect(await focusedPath(page)).toBe('b-local/a');
    await page.keyboard.press('ArrowDown');
    expect(await focusedPath(page)).toBe('b-local/arc');
    await page.keyboard.press('d');
    expect(await focusedPath(page)).toBe('b-local/docs');
    await page.keyboard.press('ArrowLeft');
    expect(await focusedPath(page)).toBe('b-local/');
    await page.keyboard.press('ArrowLeft');
    expect(await tree.locator('li[data-path="b-local/"]').getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/browse\/b-local$/);
    // The tree filter keeps what matches and its ancestors.
    await page.getByLabel('Filter tree').fill('docs');
    await tree.locator('li[data-path="b-local/docs"]').waitFor();
    expect(await tree.locator('li[data-path="b-local/lib"]').count()).toBe(0);
    await page.getByLabel('Filter tree').fill('');
    await axeClean(page, 'tree');
    await shot('tree-keyboard');
  });

  it('deploys with a target folder and properties, and to Maven coordinates read from a jar', async () => {
    await open('b-local');
    await page.getByLabel('Target folder').fill('deployed/here');
    await page.getByLabel('Properties', { exact: true }).fill('team=ui;tier=gold');
    // By keyboard: the file picker's button, then Enter.
    const chosen = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'choose files…' }).focus();
    await page.keyboard.press('Enter');
    const chooser = await chosen;
    await chooser.setFiles({ name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('deployed\n') });
    await page.locator('.uploads li[data-state="done"]').waitFor();
    expect(await properties(node, 'b-local/deployed/here/x.txt')).toMatchObject({ team: ['ui'], tier: ['gold'] });
    await open('b-maven');
    const jar = storedZip({ 'META-INF/maven/org.example/demo/pom.properties': 'groupId=org.example\nartifactId=demo\nversion=1.2.3\n', 'Main.class': 'x' });
    await page.getByLabel('Files to deploy').setInputFiles({ name: 'demo.jar', mimeType: 'application/java-archive', buffer: jar });
    await page.locator('.uploads li[data-state="done"]').waitFor();
    expect(await page.locator('.uploads li').innerText()).toContain('org.example:demo:1.2.3');
    expect(await exists(node, 'b-maven/org/example/demo/1.2.3/demo-1.2.3.jar')).toBe(true);
    // A POM: its own coordinates (the groupId inherited from the parent).
    const pom = '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>1</version></parent><artifactId>demo</artifactId><version>1.2.3</version></project>';
    await page.getByLabel('Files to deploy').setInputFiles({ name: 'pom.xml', mimeType: 'text/xml', buffer: Buffer.from(pom) });
    await expect.poll(() => page.locator('.uploads li[data-state="done"]').count()).toBe(2);
    expect(await exists(node, 'b-maven/org/example/demo/1.2.3/demo-1.2.3.pom')).toBe(true);
    await axeClean(page, 'deploy');
    await shot('deploy');
  });

  it('copies with a dry run first, moves, deletes', async () => {
    await open('b-local/a/one.txt');
    await page.getByRole('button', { name: 'Copy…' }).click();
    await page.getByLabel('Target repository').selectOption('b-local2');
    await page.getByLabel('Target path').fill('copied/one.txt');
    await page.getByRole('button', { name: 'Check copy' }).click();
    expect(await page.getByTestId('copy-result').innerText()).toContain('would succeed');
    expect(await exists(node, 'b-local2/copied/one.txt')).toBe(false);
    await axeClean(page, 'copy form');
    await shot('copy-dry-run');
    await page.getByLabel(/Dry run/).uncheck();
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.getByTestId('copy-result').filter({ hasText: 'Copy done' }).waitFor();
    expect(await exists(node, 'b-local2/copied/one.txt')).toBe(true);
    await open('b-local/tomove.txt');
    await page.getByRole('button', { name: 'Move…' }).click();
    await page.getByLabel('Target repository').selectOption('b-local2');
    await page.getByLabel('Target path').fill('moved.txt');
    await page.getByLabel(/Dry run/).uncheck();
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.waitForURL(/\/ui\/browse\/b-local2\/moved\.txt$/);
    expect(await exists(node, 'b-local/tomove.txt')).toBe(false);
    await open('b-local/todelete.txt');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.waitForURL(/\/ui\/browse\/b-local$/);
    expect(await exists(node, 'b-local/todelete.txt')).toBe(false);
  });

  it('adds and deletes properties recursively on a folder', async () => {
    await open('b-local/lib');
    await page.getByLabel('Property name').fill('stage');
    await page.getByLabel('Values (comma-separated)').fill('qa, prod');
    await page.getByLabel(/recursive/).check();
    await page.getByRole('button', { name: 'Save property' }).click();
    await page.locator('tr[data-property="stage"]').waitFor();
    expect(await properties(node, 'b-local/lib/1.9.0/lib-1.9.0.txt')).toMatchObject({ stage: ['qa', 'prod'] });
    await axeClean(page, 'properties');
    await shot('properties');
    await page.getByRole('button', { name: 'Delete property stage' }).click();
    await page.locator('tr[data-property="stage"]').waitFor({ state: 'detached' });
    expect(await properties(node, 'b-local/lib/1.9.0/lib-1.9.0.txt')).not.toHaveProperty('stage');
  });

  it('shows text content, archive entries, download statistics, and downloads a folder as a zip', async () => {
    await open('b-local/docs/README.md');
    await page.getByRole('button', { name: 'View content' }).click();
    expect(await page.getByTestId('text-view').innerText()).toContain('A readme shown in the text view.');
    await axeClean(page, 'text view');
    await shot('text-view');
    await open('b-local/pkg/package.json');
    await page.getByRole('button', { name: 'View content' }).click();
    expect(await page.getByTestId('text-view').innerText()).toContain('"name": "browse-test"');
    for (const [file, entry] of [
      ['t.jar', 'com/example/Main.class'],
      ['t.tgz', 'package/index.js'],
    ]) {
      await open(`b-local/arc/${file}`);
      await page.getByRole('button', { name: 'Browse archive' }).click();
      await page.getByTestId('archive-table').getByText(entry).waitFor();
    }
    await axeClean(page, 'archive view');
    await shot('archive');
    await open('b-local/a/one.txt');
    expect(await page.getByTestId('download-count').innerText()).toMatch(/^2\b/);
    expect(await page.getByTestId('download-count').innerText()).toContain(READER.name);
    await open('b-local/a');
    expect(await page.locator('tr[data-name="one.txt"] td').last().innerText()).toBe('2');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download folder as zip' }).click()]);
    const zip = readFileSync((await download.path())!);
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(zip.includes(Buffer.from('one.txt'))).toBe(true);
  });

  it('shows a read-only user no write action', async () => {
    const ctx = await browser.newContext({ viewport: WIDE });
    const reader = await login(ctx, node.url, READER.name, READER.password);
    const readerErrors: string[] = [];
    reader.on('console', (m) => m.type() === 'error' && readerErrors.push(m.text()));
    await reader.goto(`${node.url}/ui/browse/b-local/a`);
    await reader.getByTestId('folder-table').waitFor();
    await reader.getByRole('link', { name: 'Download folder as zip' }).waitFor();
    await reader.waitForTimeout(300);
    for (const name of ['Copy…', 'Move…', 'Delete', 'Save property']) expect(await reader.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await reader.getByTestId('deploy-zone').count()).toBe(0);
    await reader.goto(`${node.url}/ui/browse/b-local/docs/README.md`);
    await reader.getByRole('button', { name: 'View content' }).click();
    await reader.getByTestId('text-view').waitFor();
    for (const name of ['Copy…', 'Move…', 'Delete', 'Save property']) expect(await reader.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    await axeClean(reader, 'read-only file');
    await screenshot(reader, 'browse-read-only');
    expect(readerErrors).toEqual([]);
    await ctx.close();
  });

  it('works at 390×844 without sideways scrolling', async () => {
    for (const [view, path] of [
      ['narrow-folder', 'b-local/lib'],
      ['narrow-virtual', 'b-virtual/a'],
      ['narrow-file', 'b-local/a/one.txt'],
    ]) {
      await page.setViewportSize(NARROW);
      await open(path!);
      await noSidewaysScroll(page, view!);
      await shot(view!);
    }
    await page.setViewportSize(WIDE);
  });

  it(`shows the first rows of a folder of ${BIG_COUNT.toLocaleString()} files, one page rendered, and prints how long they took`, async () => {
    const ctx = await browser.newContext({ viewport: WIDE });
    // The moment the first row of the folder table appears, in the page's own clock (0 = navigation start).
    await ctx.addInitScript(`new MutationObserver(() => {
        if (window.__firstRow === undefined && document.querySelector('[data-testid="folder-table"] tbody tr[data-name]')) window.__firstRow = performance.now();
      }).observe(document, { childList: true, subtree: true });`);
    const p = await login(ctx, node.url, 'admin', ADMIN_PASSWORD);
    const loads: number[] = [];
    for (let i = 0; i < 7; i++) {
      await p.goto(`${node.url}/ui/browse/b-local/big`);
      await expect.poll(() => p.evaluate('window.__firstRow !== undefined'), { timeout: 20_000 }).toBe(true);
      loads.push((await p.evaluate('window.__firstRow')) as number);
    }
    // Within the app: from a click on the folder's link to its first rows.
    const clicks: number[] = [];
    for (let i = 0; i < 7; i++) {
      await p.goto(`${node.url}/ui/browse/b-local`);
      await p.locator('tr[data-name="big"] a').waitFor();
      clicks.push(
        (await p.evaluate(`new Promise((resolve) => {
          const t0 = performance.now();
          new MutationObserver((_m, obs) => {
            if (document.querySelector('[data-testid="folder-table"] tbody tr[data-name="item-00001.txt"]')) {
              obs.disconnect();
              resolve(performance.now() - t0);
            }
          }).observe(document, { childList: true, subtree: true });
          document.querySelector('tr[data-name="big"] a').click();
        })`)) as number,
      );
    }
    await screenshot(p, 'browse-big-folder');
    // The tree holds 200 children of the folder at a time; its "Show more…" item brings the next 200.
    const treeItems = p.locator('li[role="treeitem"][data-path^="b-local/big/"]');
    await expect.poll(() => treeItems.count()).toBe(200);
    await p.locator('li[role="treeitem"].more').focus();
    await p.keyboard.press('Enter');
    await expect.poll(() => treeItems.count()).toBe(400);
    // Beyond the first 1,000 rows of the table: the next 1,000 on demand.
    await p.getByRole('button', { name: 'Load 1,000 more' }).click();
    await p.getByText('Page 1 of 20').waitFor();
    const rows = await p.locator('[data-testid="folder-table"] tbody tr[data-name]').count();
    console.log(
      `[browse perf] folder of ${BIG_COUNT} files: first rows ${median(loads).toFixed(0)} ms after a page load (median of ${loads.map((t) => t.toFixed(0)).join(', ')}), ` +
        `${median(clicks).toFixed(0)} ms after a click in the app (median of ${clicks.map((t) => t.toFixed(0)).join(', ')}); ${rows} rows rendered`,
    );
    // One page of rows is rendered, whatever the folder holds. The times are printed, not
    // asserted (a timed assertion fails on a busy machine and proves nothing on a quiet one);
    // the target is 300 ms, and the closing notes carry the figures.
    expect(rows).toBeLessThanOrEqual(100);
    await ctx.close();
  });

  it('logged no console error in the whole session', () => {
    expect(errors).toEqual([]);
  });

  it('admin REST: the merged listing is paged', async () => {
    const first = (await (await rest(node.base, 'GET', '/api/storage/b-virtual/a?limit=2&details=1')).json()) as { children: Array<{ uri: string; repo: string }>; next: string };
    expect(first.children.map((c) => c.uri)).toEqual(['/cached.txt', '/one.txt']);
    const second = (await (await rest(node.base, 'GET', `/api/storage/b-virtual/a?limit=2&details=1&after=${first.next}`)).json()) as { children: Array<{ uri: string; repo: string }>; next?: string };
    expect(second.children.map((c) => [c.uri, c.repo])).toEqual([['/two.txt', 'b-local2']]);
    expect(second.next).toBeUndefined();
  });
});
