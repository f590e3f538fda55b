import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD, basic } from '../helpers/credentials.js';
import { auditPage, launchBrowser } from './ui/browser.js';
import { startUiCluster, uiSkipReason, type UiCluster } from './ui/ui-cluster.js';

/**
 * The administration pages in Debian's chromium through nginx in front of a three-node cluster: the New-repository form
 * starts from the server's defaults and saves what it shows (Maven's releases and snapshots
 * included), offers only real formats, and is operable by keyboard alone; the repository list's
 * tabs, filters, remote status and Test connection; replication; permission targets that refuse
 * unknown names; users (lock state and Unlock, password rules), group members, token presets
 * with a copy button; tasks' Run now; the Storage and System pages. Every page is checked with
 * axe-core at 1366×768 and 390×844 in both colour schemes (no sideways scroll), and the session
 * has no console error.
 */

const skipReason = uiSkipReason;
if (skipReason) console.warn(`[skip] admin UI e2e: ${skipReason}`);
/** A stricter password policy, and a lock after one failed login. */
const NODE_ENV = { ARCA_PASSWORD_MINLENGTH: '10', ARCA_PASSWORD_MINCLASSES: '3', ARCA_LOGIN_MAXFAILURES: '1' };

const BOB_PASSWORD = 'Bob-Passw0rd';

/** A port nothing listens on: bound, noted and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe.skipIf(!!skipReason)('administration pages in a real browser', () => {
  let target: UiCluster;
  /** The balancer. */
  const node = {
    get url() {
      return target.url;
    },
  };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const admin = { authorization: ADMIN_AUTH, 'content-type': 'application/json' };
  const rest = (path: string, init: RequestInit = {}) => fetch(`${node.url}/artifactory/api/${path}`, { ...init, headers: { ...admin, ...(init.headers as Record<string, string>) } });
  // `any`: the tests read JSON answers field by field.
  const json = async (path: string): Promise<any> => (await rest(path)).json();

  /** Opens a UI path and waits for its heading. */
  async function open(path: string, heading: string | RegExp) {
    await page.goto(`${node.url}/ui${path}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  /**
   * The page as it is, at 1366×768 and 390×844 in the light and dark schemes: axe-core finds
   * nothing, the page never scrolls sideways; screenshots test-output/ui/admin-{name}-*.png.
   */
  async function check(name: string) {
    await page.waitForTimeout(300);
    const audit = await auditPage(page, `admin-${name}`);
    expect(audit.violations, `axe on ${name}`).toEqual([]);
    expect(audit.overflow, `${name} scrolls sideways`).toEqual([]);
  }

  /** Presses Tab until the focused element matches `selector` (at most 80 times). */
  async function tabTo(selector: string) {
    for (let i = 0; i < 80; i++) {
      if (await page.evaluate<boolean>(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
      await page.keyboard.press('Tab');
    }
    throw new Error(`Tab never reached ${selector}`);
  }

  beforeAll(async () => {
    target = await startUiCluster(3, NODE_ENV);
    const put = (path: string, body: unknown) => rest(path, { method: 'PUT', body: JSON.stringify(body) });
    expect((await put('repositories/libs-local', { rclass: 'local', packageType: 'maven' })).status).toBe(200);
    expect((await put('repositories/repl-target', { rclass: 'local', packageType: 'maven' })).status).toBe(200);
    expect((await put('repositories/old-nuget', { rclass: 'local', packageType: 'nuget', description: 'from before' })).status).toBe(200);
    expect((await put('repositories/up-ok', { rclass: 'remote', packageType: 'maven', url: `${node.url}/artifactory/libs-local/`, username: 'admin', password: ADMIN_PASSWORD })).status).toBe(200);
    expect((await put('repositories/up-dead', { rclass: 'remote', packageType: 'npm', url: `http://127.0.0.1:${await closedPort()}/registry` })).status).toBe(200);
    expect((await put('security/users/bob', { password: BOB_PASSWORD, email: 'bob@example.com' })).status).toBe(201);
    expect((await put('security/groups/devs', { description: 'Developers' })).status).toBe(201);
    expect((await rest('security/users/bob', { method: 'POST', body: JSON.stringify({ groups: ['devs'] }) })).status).toBe(200);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
    await page.goto(`${node.url}/ui/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await target?.stop();
  });

  it('creates a Maven repository by keyboard alone; the form shows the server defaults and the saved repository equals what it showed', async () => {
    await open('/admin/repositories', 'Repositories');
    await tabTo('a[href$="/admin/repositories/new"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New repository' }).waitFor();
    await page.locator('fieldset:not([disabled]) #repo-key').waitFor();
    await tabTo('#repo-key');
    await page.keyboard.type('kb-maven');
    await tabTo('#repo-packageType');
    for (let i = 0; i < 5 && (await page.locator('#repo-packageType').inputValue()) !== 'maven'; i++) await page.keyboard.press('ArrowDown');
    expect(await page.locator('#repo-packageType').inputValue()).toBe('maven');
    // Misleading item 2: releases and snapshots show what a new repository does: both handled.
    await expect.poll(() => page.getByLabel('Handle releases').isChecked()).toBe(true);
    expect(await page.getByLabel('Handle snapshots').isChecked()).toBe(true);
    // Every field the form shows, as it shows it (numbers as numbers, boxes as booleans).
    const shown = await page.evaluate<Record<string, unknown>>(`(() => {
      const out = {};
      for (const el of document.querySelectorAll('form input[id^="repo-"], form select[id^="repo-"]')) {
        const field = el.id.slice('repo-'.length);
        if (field === 'key' || field === 'add-member') continue;
        out[field] = el.type === 'checkbox' ? el.checked : el.type === 'number' ? Number(el.value) : el.value;
      }
      return out;
    })()`);
    expect(shown).toMatchObject({ handleReleases: true, handleSnapshots: true, maxUniqueSnapshots: 0, checksumPolicyType: 'client-checksums', includesPattern: '**/*' });
    await check('repository-new-maven');
    await tabTo('button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: "Repository 'kb-maven' created." }).waitFor();
    const saved = await json('repositories/kb-maven');
    for (const [field, value] of Object.entries(shown)) expect(saved[field], field).toEqual(value);
    expect(saved).toMatchObject({ rclass: 'local', packageType: 'maven' });
    // The Edit form shows the same.
    await open('/admin/repositories/edit/kb-maven', 'Edit repository kb-maven');
    await expect.poll(() => page.getByLabel('Handle snapshots').isChecked()).toBe(true);
    expect(await page.getByLabel('Handle releases').isChecked()).toBe(true);
  });

  it('offers only the formats Arca serves; a repository of another type still edits', async () => {
    await open('/admin/repositories/new', 'New repository');
    await page.locator('fieldset:not([disabled]) #repo-packageType').waitFor();
    const values = await page.evaluate<string[]>(`[...document.querySelectorAll('#repo-packageType option')].map((o) => o.value)`);
    expect(values).toEqual(['generic', 'maven', 'gradle', 'npm', 'pypi', 'docker', 'go', 'cargo', 'gems', 'helm', 'debian', 'rpm']);
    expect(await page.locator('#repo-packageType optgroup').count()).toBe(0);
    await open('/admin/repositories/edit/old-nuget', 'Edit repository old-nuget');
    await expect.poll(() => page.locator('#repo-packageType').inputValue()).toBe('nuget');
    expect(await page.locator('#repo-packageType option:checked').innerText()).toContain('stored as plain files');
    await page.getByLabel('Description').fill('still edits');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: "Repository 'old-nuget' saved." }).waitFor();
    expect((await json('repositories/old-nuget')).description).toBe('still edits');
  });

  it('lists repositories with class tabs, filters and icons; a remote shows its upstream and tests its connection', async () => {
    await open('/admin/repositories', 'Repositories');
    const table = page.getByTestId('repos-table');
    await table.getByRole('link', { name: 'up-ok', exact: true }).waitFor();
    expect(await table.locator('svg.type-icon').count()).toBeGreaterThanOrEqual(6);
    await page.getByRole('tab', { name: /^Remote/ }).click();
    await expect.poll(async () => (await table.locator('tbody tr').allInnerTexts()).length).toBe(2);
    // The tabs follow the arrow keys.
    await page.getByRole('tab', { name: /^Remote/ }).press('ArrowRight');
    expect(await page.getByRole('tab', { name: /^Virtual/ }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('tab', { name: /^All/ }).click();
    await page.getByLabel('Package type').selectOption('npm');
    await expect.poll(async () => (await table.locator('tbody tr').allInnerTexts()).length).toBe(1);
    await page.getByLabel('Package type').selectOption('');
    await page.getByLabel('Filter repositories').fill('libs');
    await expect.poll(async () => (await table.locator('tbody tr').allInnerTexts()).length).toBe(1);
    await page.getByLabel('Filter repositories').fill('');
    await page.getByRole('tab', { name: /^Remote/ }).click();
    expect(await table.innerText()).toContain(`${node.url}/artifactory/libs-local/`);
    await page.getByRole('button', { name: 'Test connection of up-ok' }).click();
    await expect.poll(() => page.getByTestId('test-result-up-ok').innerText()).toMatch(/^✓ Connected/);
    await page.getByRole('button', { name: 'Test connection of up-dead' }).click();
    await expect.poll(() => page.getByTestId('test-result-up-dead').innerText()).toMatch(/^✗ /);
    await check('repositories-remote');
    // The remote's own page shows the last error after the failed test. Each node knows what it
    // saw itself, and the balancer may send the page's request to another one, which says
    // "not contacted yet" and "none seen by this node": load again until the node that ran the
    // test answers.
    let upstream = '';
    for (let i = 0; i < 12 && !/failing/.test(upstream); i++) {
      await open('/admin/repositories/edit/up-dead', 'Edit repository up-dead');
      await page.getByRole('heading', { name: 'Upstream' }).waitFor();
      await expect.poll(() => page.locator('.kv').first().innerText()).toMatch(/Status/);
      upstream = await page.locator('.kv').first().innerText();
      if (!/failing/.test(upstream)) expect(upstream).toMatch(/not contacted yet[\s\S]*none seen by this node/);
    }
    expect(upstream).toMatch(/failing/);
    await check('repository-remote-edit');
  });

  it('configures push replication of a local repository, shows its status and runs it now', async () => {
    await open('/admin/repositories/edit/libs-local', 'Edit repository libs-local');
    await page.getByRole('heading', { name: 'Replication' }).waitFor();
    await page.getByLabel('Target repository URL').fill(`${node.url}/artifactory/repl-target`);
    await page.getByLabel('Username on the target').fill('admin');
    await page.getByLabel('Password or token').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Add target' }).click();
    await page.getByRole('status').filter({ hasText: 'Push target' }).waitFor();
    await page.getByTestId('replication-targets').getByText(`${node.url}/artifactory/repl-target`).waitFor();
    const config = await json('replications/libs-local');
    expect(config).toMatchObject([{ url: `${node.url}/artifactory/repl-target`, enabled: true, cronExp: '0 0 * * * ?' }]);
    expect(JSON.stringify(config)).not.toContain(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Run replication now' }).click();
    await page.getByRole('status').filter({ hasText: 'replication run' }).waitFor();
    await expect.poll(() => page.getByTestId('replication-status').innerText()).toMatch(/Run requested|Last completed/);
    await check('repository-replication');
  });

  it('refuses unknown repositories and users in a permission target, and has no ANY default', async () => {
    await open('/admin/permissions/new', 'New permission target');
    await page.locator('fieldset:not([disabled]) #perm-name').waitFor();
    await page.getByLabel('Name').fill('readers');
    expect(await page.getByTestId('perm-repos-chosen').innerText()).toContain('none yet');
    await page.getByRole('button', { name: 'Create permission target' }).click();
    await page.getByRole('alert').filter({ hasText: 'Choose at least one repository' }).waitFor();
    const repo = page.getByRole('combobox', { name: 'Add a repository' });
    await repo.fill('libs-locl');
    await repo.press('Enter');
    await page.getByRole('alert').filter({ hasText: "There is no repository named 'libs-locl'" }).waitFor();
    await repo.fill('libs-lo');
    await page.getByRole('option', { name: 'libs-local' }).waitFor();
    await repo.press('ArrowDown');
    await expect.poll(() => repo.getAttribute('aria-activedescendant')).toBeTruthy();
    await repo.press('Enter');
    await page.getByTestId('perm-repos-chosen').getByText('libs-local').waitFor();
    await page.getByRole('button', { name: 'Add principal' }).click();
    const who = page.getByRole('combobox', { name: 'Name of principal 1 (user)' });
    await who.fill('bobb');
    await page.getByRole('button', { name: 'Create permission target' }).click();
    await page.getByRole('alert').filter({ hasText: 'Unknown users: bobb' }).waitFor();
    expect((await rest('v2/security/permissions/readers')).status).toBe(404);
    await who.fill('bo');
    await page.getByRole('option', { name: 'bob', exact: true }).waitFor();
    await who.press('ArrowDown');
    await expect.poll(() => who.getAttribute('aria-activedescendant')).toBeTruthy();
    await who.press('Enter');
    expect(await who.inputValue()).toBe('bob');
    await check('permission-new');
    await page.getByRole('button', { name: 'Create permission target' }).click();
    await page.getByRole('status').filter({ hasText: "Permission target 'readers' created." }).waitFor();
    const saved = await json('v2/security/permissions/readers');
    expect(saved.repo.repositories).toEqual(['libs-local']);
    expect(saved.repo.actions.users).toEqual({ bob: ['read'] });
    await check('permissions');
  });

  it('shows users with email, admin, groups, last login and lock state, and unlocks a locked user', async () => {
    // With arca.login.maxFailures 1, the n-th failure locks for 2^(n-1) s, and failures during a
    // lock do not count: six failures, each after the previous lock, lock bob for 32 s.
    for (let i = 0; i < 6; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 2 ** (i - 1) * 1000 + 250));
      await fetch(`${node.url}/artifactory/api/system/version`, { headers: { authorization: basic('bob', 'wrong-password') } });
    }
    expect(await json('security/lockedUsers')).toEqual(['bob']);
    await open('/admin/users', 'Users');
    const table = page.getByTestId('users-table');
    const bobRow = table.locator('tbody tr').filter({ hasText: 'bob@example.com' });
    await bobRow.getByText('locked').waitFor();
    expect(await bobRow.innerText()).toContain('devs');
    expect(await table.locator('tbody tr').filter({ hasText: 'admin' }).first().innerText()).toMatch(/yes/);
    await check('users-locked');
    await page.getByRole('button', { name: 'Unlock user bob' }).click();
    await page.getByRole('status').filter({ hasText: 'User bob unlocked.' }).waitFor();
    expect(await json('security/lockedUsers')).toEqual([]);
    expect((await fetch(`${node.url}/artifactory/api/system/version`, { headers: { authorization: basic('bob', BOB_PASSWORD) } })).status).toBe(200);
  });

  it('shows the password rules in the user form and refuses a password that breaks them before sending it', async () => {
    await open('/admin/users/new', 'New user');
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Email').fill('carol@example.com');
    await page.getByLabel('Password', { exact: true }).fill('short');
    const rules = page.getByRole('list', { name: 'Password rules' });
    await expect.poll(() => rules.innerText()).toMatch(/✗ at least 10 characters/);
    await check('user-new-policy');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('alert').filter({ hasText: 'The password needs at least 10 characters' }).waitFor();
    expect((await rest('security/users/carol')).status).toBe(404);
    await page.getByLabel('Password', { exact: true }).fill('Carol-Passw0rd');
    await expect.poll(() => rules.innerText()).not.toMatch(/✗/);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').filter({ hasText: "User 'carol' created." }).waitFor();
  });

  it('edits group membership from the group page', async () => {
    await open('/admin/groups/edit/devs', 'Edit group devs');
    await page.getByTestId('group-members').getByText('bob').waitFor();
    const add = page.getByRole('combobox', { name: 'Add a member' });
    await add.fill('car');
    await page.getByRole('option', { name: 'carol' }).click();
    await page.getByTestId('group-members').getByText('carol').waitFor();
    await check('group-edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: "Group 'devs' saved." }).waitFor();
    expect((await json('security/groups/devs?includeUsers=true')).userNames.sort()).toEqual(['bob', 'carol']);
  });

  it('creates a token with an expiry preset and a scope, shows it once with a copy button', async () => {
    await open('/tokens', 'Access tokens');
    await page.getByLabel('Description').fill('ci');
    const presets = (await page.getByRole('group', { name: 'Expires after' }).locator('label').allInnerTexts()).map((t) => t.trim());
    expect(presets).toEqual(['1 hour', '1 day', '30 days', '1 year', 'Never']);
    await page.getByRole('radio', { name: '1 day' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('status').filter({ hasText: 'Token created (ci).' }).waitFor();
    const token = (await page.locator('#token-value').innerText()).trim();
    expect(token.split('.')).toHaveLength(3);
    expect(await page.getByTestId('new-token').innerText()).toMatch(/expires in 1 day/);
    expect((await fetch(`${node.url}/artifactory/api/system/version`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await check('tokens');
    await page.getByRole('button', { name: 'Copy token' }).click();
    // The button now says so, in its visible text and its name.
    await page.getByRole('button', { name: '✓ Copied token' }).waitFor();
    // Two seconds later it is a Copy button again.
    await page.getByRole('button', { name: 'Copy token' }).waitFor({ timeout: 5_000 });
  });

  it("offers a non-admin only presets within the maximum, and their own groups' scope", async () => {
    const bobContext = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    try {
      const p = await bobContext.newPage();
      await p.goto(`${node.url}/ui/`);
      await p.getByLabel('Username').fill('bob');
      await p.getByLabel('Password').fill(BOB_PASSWORD);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('button', { name: 'Log out' }).waitFor();
      await p.goto(`${node.url}/ui/tokens`);
      const group = p.getByRole('group', { name: 'Expires after' });
      await group.waitFor();
      expect(await group.getByRole('radio').count()).toBe(4);
      expect(await group.innerText()).not.toContain('Never');
      await p.getByRole('radio', { name: 'only some of my groups' }).check();
      await p.getByRole('checkbox', { name: 'devs' }).check();
      await p.getByRole('button', { name: 'Create token' }).click();
      await p.getByTestId('new-token').getByText(/applied-permissions\/groups:devs/).waitFor();
      expect(await p.getByRole('radio', { name: 'administrator rights' }).count()).toBe(0);
    } finally {
      await bobContext.close();
    }
  });

  it('lists scheduled tasks with their next run and runs one now', async () => {
    await open('/admin/tasks', 'Tasks');
    const tasks = page.getByTestId('tasks');
    const gcRow = tasks.locator('tbody tr').filter({ has: page.getByRole('rowheader', { name: 'gc', exact: true }) });
    expect(await gcRow.innerText()).toMatch(/every 14400s/);
    expect((await gcRow.locator('td').nth(1).innerText()).trim()).not.toBe('—');
    await page.getByRole('button', { name: 'Run now: trash-prune' }).click();
    await page.getByRole('status').filter({ hasText: /Task trash-prune/ }).waitFor();
    await expect.poll(async () => (await page.getByTestId('task-runs').innerText()).match(/trash-prune[^\n]*(SUCCEEDED|RUNNING|QUEUED)[^\n]*/)?.[0] ?? '', { timeout: 20_000 }).toMatch(/by admin/);
    await check('tasks');
  });

  it('shows the storage summary and the system page', async () => {
    await rest('storageinfo/calculate', { method: 'POST' });
    await open('/admin/storage', 'Storage');
    await page.getByTestId('storage-summary').waitFor();
    expect(await page.getByTestId('storage-summary').innerText()).toMatch(/Binaries[\s\S]*Deduplication/);
    await page.getByTestId('storage-repos').getByRole('link', { name: 'libs-local', exact: true }).waitFor();
    await check('storage');
    await open('/admin/system', 'System');
    await expect.poll(() => page.getByTestId('system-database').innerText()).toBe('PostgreSQL');
    expect(await page.getByTestId('system-binstore').innerText()).toMatch(/file-system|cache-fs|sharding/);
    // The three nodes behind the balancer.
    await expect.poll(() => page.getByTestId('system-nodes').getByText('RUNNING').count()).toBe(3);
    await check('system');
  });

  it('had no console error and no page error in the whole session', () => {
    expect(errors).toEqual([]);
  });
});
