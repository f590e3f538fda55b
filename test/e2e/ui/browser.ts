import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../helpers/node-process.js';

/** Debian's chromium; the tests never download a browser. */
export const CHROMIUM = process.env.ARCA_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

/** Where the screenshots of each page go (gitignored). */
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'ui');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 30_000 });
}

/** A fresh browser context (its own cookies) with bounded default waits. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Logs in through the UI's form at `base` (`http://host:port`) and waits for the shell. */
export async function uiLogin(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Collects the page's console errors and uncaught exceptions, for assertions and failure messages. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}${msg.location().url ? ` (${msg.location().url})` : ''}`);
  });
  return errors;
}

/**
 * Drops a file on `selector` as a user's drag and drop does: a DataTransfer holding a File
 * built in the page, dispatched as dragenter, dragover and drop events.
 */
export async function dropFile(page: Page, selector: string, name: string, content: string, type = 'application/octet-stream'): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    `(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(content)}], ${JSON.stringify(name)}, { type: ${JSON.stringify(type)} })); return dt; })()`,
  );
  for (const event of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent(selector, event, { dataTransfer });
  await dataTransfer.dispose();
}

const AXE = join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's violations on the page as it is now (all of axe's default rules, WCAG 2.1 A/AA and best practices). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the debugging protocol: the UI's Content-Security-Policy refuses injected script tags.
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(`${readFileSync(AXE, 'utf8')}\n;void 0`);
  const result = (await page.evaluate('window.axe.run(document, { resultTypes: ["violations"] })')) as {
    violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[]; failureSummary?: string }> }>;
  };
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`.trim()) }));
}

/** The two screen sizes every page is checked at: a laptop and a phone (390 px wide). */
export const VIEWPORTS = [
  { name: 'desktop', width: 1366, height: 768 },
  { name: 'phone', width: 390, height: 844 },
] as const;
export const SCHEMES = ['light', 'dark'] as const;

export interface PageAudit {
  /** `{viewport}-{scheme}: {rule}: {help} at {nodes}` for each axe violation. */
  violations: string[];
  /** Viewports where the page scrolled sideways (document wider than the window). */
  overflow: string[];
}

/**
 * Checks the page as it is at both sizes in both colour schemes (the system's scheme, with
 * no choice stored by the header's toggle): axe-core violations, sideways scrolling, and a
 * screenshot `{name}-{viewport}-{scheme}.png` each. Leaves the page at the desktop size in
 * the light scheme.
 */
export async function auditPage(page: Page, name: string): Promise<PageAudit> {
  const audit: PageAudit = { violations: [], overflow: [] };
  await page.evaluate('localStorage.removeItem("arca-theme"); delete document.documentElement.dataset.theme');
  for (const v of VIEWPORTS) {
    await page.setViewportSize({ width: v.width, height: v.height });
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await page.waitForTimeout(150);
      const wide = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      if (wide > 1) audit.overflow.push(`${v.name}-${scheme}: ${wide}px too wide`);
      for (const x of await axeViolations(page)) audit.violations.push(`${v.name}-${scheme}: ${x.id} (${x.impact}): ${x.help} at ${x.nodes.join(' | ')}`);
      await screenshot(page, `${name}-${v.name}-${scheme}`);
    }
  }
  await page.setViewportSize({ width: VIEWPORTS[0].width, height: VIEWPORTS[0].height });
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  return audit;
}
