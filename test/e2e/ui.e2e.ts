import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { buildDeb, HAVE_APT } from '../helpers/debian-packages.js';
import { chartTgz } from '../helpers/helm-charts.js';
import { NGINX, TestCluster } from './harness/cluster.js';
import { startDedicatedPostgres } from './harness/dedicated-pg.js';
import { auditPage, chromiumInstalled, CHROMIUM, dropFile, launchBrowser, newContext, pageErrors } from './ui/browser.js';
import { startWaitingNode, TestIssuer } from './ui/licensed-cluster.js';

/**
 * The web UI in Debian's chromium, through nginx in front of a three-node cluster on
 * PostgreSQL with the Cluster License Manager on: log in, add licenses and watch the waiting
 * nodes take them, delete a free one, be refused deleting one in use, create a repository,
 * deploy a file by drag and drop, browse to it and download it, search, set-up snippets on
 * the custom URL base, each node's logs, and the High Availability table turning a killed
 * node UNAVAILABLE. A screenshot of every page goes to test-output/ui/.
 */

const NODE_ENV = { ARCA_HA_HEARTBEATSTALESECS: '10', ARCA_LICENSE_CHECKINTERVALSECS: '1' };
const FILE_NAME = 'hello-ui.txt';
const FILE_BODY = 'Deployed from the browser by drag and drop.\n'.repeat(100);

const skipReason = !NGINX ? 'nginx is not installed (apt-get install nginx)' : !chromiumInstalled() ? `no chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;
if (skipReason) console.warn(`[skip] web UI e2e: ${skipReason}`);

/** Waits until `check` holds, polling every 250 ms, at most `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
}

/** The Node ID cell of each row of the licenses table, by licensed-to name. */
async function licenseHolders(page: Page): Promise<Record<string, string>> {
  const rows = page.getByTestId('licenses-table').locator('tbody tr[data-license-hash]');
  const out: Record<string, string> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = rows.nth(i).locator('td');
    out[(await cells.nth(1).innerText()).trim()] = (await cells.nth(4).innerText()).trim();
  }
  return out;
}

describe.skipIf(!!skipReason)('web UI through nginx in front of a three-node cluster', () => {
  let pg: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  let cluster: TestCluster;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const issuer = new TestIssuer();
  const lb = () => cluster.lbUrl;
  /** axe-core violations and sideways scrolling of every page audited, at both sizes in both schemes. */
  const findings: string[] = [];
  const audit = async (name: string) => {
    const a = await auditPage(page, name);
    findings.push(...a.violations.map((v) => `${name}: ${v}`), ...a.overflow.map((o) => `${name}: ${o}`));
  };

  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    cluster = new TestCluster({ type: 'postgresql', url: pg.url }, 3, NODE_ENV);
    await cluster.create();
    // One license for the primary at start; the two others wait for licenses added in the UI.
    issuer.install(cluster.nodes, [issuer.issue('Bootstrap Corp', '2035-12-31')]);
    await cluster.startNode(cluster.nodes[0]);
    await cluster.startNginx();
    for (const n of cluster.nodes.slice(1)) await startWaitingNode(n, NODE_ENV);
    browser = await launchBrowser();
    context = await newContext(browser);
    page = await context.newPage();
    errors = pageErrors(page);
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await cluster?.destroy();
    await pg?.stop();
  });

  it('shows the login page and refuses a wrong password', async () => {
    await page.goto(`${lb()}/ui/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText(), { timeout: 10_000 }).toMatch(/./);
    await audit('01-login');
  });

  it('logs in by keyboard alone and lands on the home dashboard', async () => {
    await page.goto(`${lb()}/ui/`);
    await page.getByLabel('Username').waitFor();
    // The username field has the focus; Tab moves to the password; Enter submits.
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Home');
    // The page heading takes the focus, so the next Tab goes on from the content.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('page-title');
    // The dashboard: three nodes running, and the counts once they arrived.
    await expect.poll(() => page.getByRole('region', { name: 'Cluster health' }).innerText(), { timeout: 15_000 }).toMatch(/\d of \d nodes? running/);
    await audit('01b-home');
  });

  it('adds three licenses; the two waiting nodes take the latest-expiring ones and the third stays free', async () => {
    // By keyboard: back from the page heading into the navigation, to the Licenses link.
    for (let i = 0; i < 25 && (await page.evaluate('document.activeElement && document.activeElement.textContent')) !== 'Licenses'; i++) await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByTestId('licenses-table').waitFor();
    await until('the bootstrap license held by art1', 15_000, async () => (await licenseHolders(page))['Bootstrap Corp'] === 'art1');
    const keys = [issuer.issue('Early Corp', '2031-01-31'), issuer.issue('Late Corp', '2034-06-30'), issuer.issue('Middle Corp', '2033-03-15')];
    // Two pasted as one would from an email (a newline, a semicolon and spaces between them),
    // the third dropped as a license file.
    await page.getByLabel('License keys').fill(`${keys[0]}\n${keys[1]};  `);
    await dropFile(page, '[data-testid="license-drop"]', 'middle.cluster.license', `${keys[2]}\n`, 'text/plain');
    await expect.poll(() => page.getByLabel('License keys').inputValue(), { timeout: 5_000 }).toContain(keys[2]);
    await page.getByRole('button', { name: 'Add 3 licenses' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), { timeout: 15_000 }).toContain('3 of 3 licenses added');
    await until('art2 and art3 to take the two latest-expiring licenses', 30_000, async () => {
      const h = await licenseHolders(page);
      return new Set([h['Late Corp'], h['Middle Corp']]).size === 2 && ['art2', 'art3'].includes(h['Late Corp']) && ['art2', 'art3'].includes(h['Middle Corp']) && h['Early Corp'] === 'Not in use';
    });
    for (const n of cluster.nodes) expect((await fetch(`${n.url}/artifactory/api/system/ping`)).status, n.id).toBe(200);
    await audit('02-licenses-assigned');
  });

  it('deletes the free license, and is refused deleting one in use when no free one is left', async () => {
    const row = (name: string) => page.getByTestId('licenses-table').locator('tbody tr', { hasText: name });
    // By keyboard: Enter on Delete, and the confirmation button takes the focus.
    await row('Early Corp').getByRole('button', { name: /Delete license/ }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Yes, delete');
    await page.keyboard.press('Enter');
    await until('the free license to disappear', 15_000, async () => (await row('Early Corp').count()) === 0);

    await row('Middle Corp').getByRole('button', { name: /Delete license/ }).click();
    await row('Middle Corp').getByRole('button', { name: 'Yes, delete' }).click();
    const refusal = row('Middle Corp').getByRole('alert');
    await refusal.waitFor({ timeout: 15_000 });
    expect(await refusal.innerText()).toMatch(/in use|no free|alternative/i);
    // Still there, still held, after the next refreshes.
    await page.waitForTimeout(5_500);
    expect(['art2', 'art3']).toContain((await licenseHolders(page))['Middle Corp']);
    await audit('03-licenses-delete-refused');
  });

  it('creates a generic local repository with the form', async () => {
    await page.getByRole('link', { name: 'Repositories' }).click();
    await page.getByRole('link', { name: 'New repository' }).click();
    await page.getByLabel('Repository key').fill('ui-generic-local');
    await page.getByLabel('Package type').selectOption('generic');
    await page.getByLabel('Description').fill('Made in the browser');
    await audit('04-repository-form');
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.getByTestId('repos-table').getByRole('link', { name: 'ui-generic-local', exact: true }).waitFor();
    const res = await fetch(`${lb()}/artifactory/api/repositories/ui-generic-local`, { headers: { authorization: ADMIN_AUTH } });
    expect(await res.json()).toMatchObject({ key: 'ui-generic-local', rclass: 'local', packageType: 'generic', description: 'Made in the browser' });
    await audit('05-repositories');
  });

  it('deploys a file by drag and drop with a progress bar, then browses to it', async () => {
    await page.getByTestId('repos-table').getByRole('link', { name: 'ui-generic-local', exact: true }).click();
    await page.getByTestId('deploy-zone').waitFor();
    await dropFile(page, '[data-testid="deploy-zone"]', FILE_NAME, FILE_BODY, 'text/plain');
    const bar = page.getByRole('progressbar', { name: new RegExp(FILE_NAME) });
    await expect.poll(() => bar.getAttribute('value'), { timeout: 15_000 }).toBe(String(FILE_BODY.length));
    await page.getByText(/deployed/).waitFor();
    await audit('06-deployed');
    const res = await fetch(`${lb()}/artifactory/ui-generic-local/${FILE_NAME}`, { headers: { authorization: ADMIN_AUTH } });
    expect(await res.text()).toBe(FILE_BODY);

    await page.getByRole('navigation', { name: 'Repository tree' }).getByRole('link', { name: FILE_NAME }).click();
    const info = page.getByTestId('file-info');
    await info.waitFor();
    const text = await info.innerText();
    expect(text).toContain(`${FILE_BODY.length} bytes`);
    expect(text).toContain(createHash('sha256').update(FILE_BODY).digest('hex'));
    expect(text).toContain(createHash('sha1').update(FILE_BODY).digest('hex'));
    await audit('07-file-details');
  });

  it('downloads the file through its download link', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.getByRole('link', { name: `Download ${FILE_NAME}` }).click()]);
    expect(download.suggestedFilename()).toBe(FILE_NAME);
    const path = await download.path();
    expect(readFileSync(path, 'utf8')).toBe(FILE_BODY);
  });

  it('finds the file by name and by checksum', async () => {
    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByLabel('File name').fill('hello-ui');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('search-results').getByRole('link', { name: `ui-generic-local/${FILE_NAME}` }).waitFor();
    await audit('08-search');
    await page.getByRole('radio', { name: 'checksum' }).check();
    await page.getByLabel('Checksum', { exact: true }).fill(createHash('sha256').update(FILE_BODY).digest('hex'));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('search-results').getByRole('link', { name: `ui-generic-local/${FILE_NAME}` }).waitFor();
  });

  it('finds the file with the header quick search by keyboard alone, and opens it', async () => {
    await page.getByRole('link', { name: 'Home', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    // "/" from anywhere outside a field jumps to the search box.
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("role")')).toBe('combobox');
    await page.keyboard.type('hello-ui');
    const option = page.getByRole('option', { name: new RegExp(`${FILE_NAME}.*ui-generic-local/${FILE_NAME}`) });
    await option.waitFor();
    await audit('08b-quick-search');
    await page.getByRole('combobox').focus();
    for (let i = 0; i < 8 && (await option.getAttribute('aria-selected')) !== 'true'; i++) await page.keyboard.press('ArrowDown');
    expect(await option.getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/ui/browse/ui-generic-local/${FILE_NAME}$`));
    await page.getByTestId('file-info').waitFor();
    // Escape closes the list; Enter with nothing chosen opens the search page with the text.
    await page.getByRole('combobox').fill('hello');
    await page.getByRole('listbox').waitFor();
    await page.keyboard.press('Escape');
    expect(await page.getByRole('combobox').getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/search\?mode=name&q=hello$/);
    await page.getByTestId('search-results').getByRole('link', { name: `ui-generic-local/${FILE_NAME}` }).waitFor();
  });

  it('writes set-up snippets with the custom URL base set on the General page', async () => {
    await page.getByRole('link', { name: 'General' }).click();
    await page.getByLabel('Custom URL Base').fill('https://repo.example.test/artifactory');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Configuration saved.').waitFor();
    await audit('09-general');
    await page.getByRole('link', { name: 'Browse' }).click();
    await page.getByRole('navigation', { name: 'Repository tree' }).getByRole('link', { name: 'ui-generic-local', exact: true }).click();
    await expect.poll(() => page.getByTestId('setup-snippet').innerText(), { timeout: 10_000 }).toContain('https://repo.example.test/artifactory/ui-generic-local/');
    await audit('10-set-me-up');
    // Back to no custom base, so the API's URLs follow the balancer again.
    await page.getByRole('link', { name: 'General' }).click();
    await page.getByLabel('Custom URL Base').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Configuration saved.').waitFor();
  });

  it('offers the served package types apart, and shows a Helm chart with its versions and set-up snippet', async () => {
    await page.getByRole('link', { name: 'Repositories' }).click();
    await page.getByRole('link', { name: 'New repository' }).click();
    const group = async (i: number) => {
      const g = page.locator('#repo-packageType optgroup').nth(i);
      return [await g.getAttribute('label'), await g.locator('option').allTextContents()];
    };
    const groups = [await group(0), await group(1)];
    expect(groups[0]).toEqual(["Served with the client's own protocol", ['generic', 'maven', 'gradle', 'npm', 'pypi', 'docker', 'go', 'cargo', 'gems', 'helm', 'debian', 'rpm']]);
    expect(groups[1]![1]).toContain('nuget (plain files)');
    const admin = { authorization: ADMIN_AUTH, 'content-type': 'application/json' };
    expect((await fetch(`${lb()}/artifactory/api/repositories/ui-helm`, { method: 'PUT', headers: admin, body: JSON.stringify({ rclass: 'local', packageType: 'helm' }) })).status).toBe(200);
    for (const version of ['0.1.0', '0.2.0']) {
      const res = await fetch(`${lb()}/artifactory/api/helm/ui-helm/demo-${version}.tgz`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: chartTgz({ name: 'demo', version, appVersion: '1.0' }) });
      expect(res.status, await res.text()).toBe(201);
    }
    await page.goto(`${lb()}/ui/browse/ui-helm/demo-0.2.0.tgz`);
    const versions = page.getByTestId('helm-versions');
    await expect.poll(() => versions.locator('tbody td:first-child').allInnerTexts(), { timeout: 10_000 }).toEqual(['0.2.0', '0.1.0']);
    expect(await page.getByText('helm install my-release ui-helm/demo --version 0.2.0').count()).toBe(1);
    await audit('10b-helm-chart');
    // The repository's own page: its set-up snippets.
    await page.goto(`${lb()}/ui/browse/ui-helm`);
    await page.getByRole('tab', { name: 'Helm' }).click();
    expect(await page.getByTestId('setup-snippet').innerText()).toContain(`helm repo add ui-helm ${lb()}/artifactory/api/helm/ui-helm`);
  });

  it("shows a Debian package's versions and where each is listed, and the repository's apt snippet", async () => {
    if (!HAVE_APT) {
      console.log('skipped: dpkg-deb and apt-get are not installed (apt-get install dpkg apt)');
      return;
    }
    const admin = { authorization: ADMIN_AUTH, 'content-type': 'application/json' };
    expect((await fetch(`${lb()}/artifactory/api/repositories/ui-deb`, { method: 'PUT', headers: admin, body: JSON.stringify({ rclass: 'local', packageType: 'debian' }) })).status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'arca-ui-deb-'));
    try {
      // The same version for two architectures: two rows.
      for (const [version, dist, arch] of [
        ['1.0-1', 'bookworm', 'amd64'],
        ['1.1-1', 'trixie', 'amd64'],
        ['1.1-1', 'trixie', 'arm64'],
      ]) {
        const deb = buildDeb(dir, { name: 'hello-ui', version, arch });
        const url = `${lb()}/artifactory/ui-deb/pool/main/h/hello-ui/hello-ui_${version}_${arch}.deb;deb.distribution=${dist};deb.component=main;deb.architecture=${arch}`;
        const res = await fetch(url, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: deb.data });
        expect(res.status, await res.text()).toBe(201);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.goto(`${lb()}/ui/browse/ui-deb/pool/main/h/hello-ui/hello-ui_1.1-1_amd64.deb`);
    const versions = page.getByTestId('debian-versions');
    await expect.poll(() => versions.locator('tbody td:first-child').allInnerTexts(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['1.0-1', '1.1-1']));
    const rows = await versions.locator('tbody tr', { hasText: '1.1-1' }).allInnerTexts();
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(expect.arrayContaining([expect.stringContaining('amd64 · trixie / main'), expect.stringContaining('arm64 · trixie / main')]));
    expect(await page.getByText('sudo apt-get install hello-ui=1.1-1').count()).toBe(1);
    await audit('10c-debian-package');
    await page.goto(`${lb()}/ui/browse/ui-deb`);
    await page.getByRole('tab', { name: 'apt' }).click();
    expect(await page.getByTestId('setup-snippet').innerText()).toContain(`deb [signed-by=/etc/apt/keyrings/ui-deb.asc] ${lb()}/artifactory/api/deb/ui-deb bookworm main`);
  });

  it('switches to dark mode with the header toggle and keeps the choice across a reload', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    const bg = () => page.evaluate('getComputedStyle(document.documentElement).getPropertyValue("--bg").trim()');
    expect(await bg()).toBe('#f6f7f9');
    await toggle.click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await page.reload();
    await page.getByRole('button', { name: 'Dark mode' }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await page.getByRole('button', { name: 'Dark mode' }).getAttribute('aria-pressed')).toBe('true');
    expect(await bg()).toBe('#15181e');
    await page.getByRole('button', { name: 'Dark mode' }).click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    expect(await bg()).toBe('#f6f7f9');
  });

  it('at 390 px wide, opens the navigation from the menu button and closes it after a link', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await nav.isVisible()).toBe(false);
      const menu = page.getByRole('button', { name: 'Menu' });
      await menu.click();
      expect(await menu.getAttribute('aria-expanded')).toBe('true');
      await nav.getByRole('link', { name: 'Search' }).click();
      await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
      await expect.poll(() => nav.isVisible()).toBe(false);
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1366, height: 768 });
    }
  });

  it("shows another node's log through the node that answers", async () => {
    await page.getByRole('link', { name: 'Logs' }).click();
    await page.getByLabel('Node', { exact: true }).selectOption('art2');
    await expect.poll(() => page.getByTestId('log-lines').getAttribute('aria-label'), { timeout: 15_000 }).toBe('Log of art2');
    await expect.poll(() => page.getByTestId('log-lines').innerText(), { timeout: 15_000 }).toMatch(/license/i);
    await audit('11-logs');
  });

  it('takes a screenshot of the remaining pages', async () => {
    for (const [link, heading, name] of [
      ['Users', 'Users', '12-users'],
      ['Groups', 'Groups', '13-groups'],
      ['Permissions', 'Permissions', '14-permissions'],
      ['Access tokens', 'Access tokens', '15-tokens'],
      ['Task runs', 'Task runs', '16-task-runs'],
    ]) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.waitForTimeout(300);
      await audit(name);
    }
  });

  it('lists three RUNNING nodes on the High Availability page, and a killed node turns UNAVAILABLE', async () => {
    await page.getByRole('link', { name: 'High Availability' }).click();
    const table = page.getByTestId('ha-table');
    const states = async () => Object.fromEntries(await Promise.all((await table.locator('tbody tr').all()).map(async (r) => [await r.getAttribute('data-node-id'), (await r.getByTestId('node-state').innerText()).trim()])));
    await until('three RUNNING nodes', 20_000, async () => JSON.stringify(await states()) === JSON.stringify({ art1: 'RUNNING', art2: 'RUNNING', art3: 'RUNNING' }));
    const header = await table.locator('thead th').allInnerTexts();
    expect(header).toEqual(['ID', 'Start Time', 'URL', 'Membership Port', 'State', 'Role', 'Last Heartbeat', 'Version', 'Revision', 'Release Date']);
    await audit('17-ha-running');
    await cluster.kill(cluster.nodes[2]);
    // No reload: the page refreshes itself.
    await until('art3 to turn UNAVAILABLE', 40_000, async () => (await states()).art3 === 'UNAVAILABLE');
    expect((await states()).art1).toBe('RUNNING');
    await audit('18-ha-unavailable');
  });

  it('logs out, and the session no longer works on any node', async () => {
    const session = (await context.cookies()).find((c) => c.name === 'ARCA_SESSION');
    expect(session).toBeDefined();
    const cookie = `ARCA_SESSION=${session!.value}`;
    for (const n of cluster.nodes.slice(0, 2)) expect((await fetch(`${n.url}/ui/api/v1/ui/auth/current`, { headers: { cookie } })).status, n.id).toBe(200);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'ARCA_SESSION')).toBeUndefined();
    for (const n of cluster.nodes.slice(0, 2)) expect((await fetch(`${n.url}/ui/api/v1/ui/auth/current`, { headers: { cookie } })).status, n.id).toBe(401);
    await audit('19-logged-out');
    // The only failed requests of the session are the two refusals it provoked on purpose: the
    // wrong password (401 from the login) and the deletion of a license in use (400).
    const unexpected = errors.filter((e) => !/status of 401 .*\/auth\/login\)$/.test(e) && !/status of 400 .*\/api\/system\/licenses/.test(e));
    expect(unexpected).toEqual([]);
  });

  it('has no axe-core violation and no sideways scrolling on any page, at 1366×768 and 390×844, light and dark', () => {
    expect(findings).toEqual([]);
  });
});
