import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crateOf, publishBody, publishMetadata } from '../helpers/cargo-crates.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { buildGem } from '../helpers/gems-fixtures.js';
import { tgzOf } from '../helpers/helm-charts.js';
import { multipartBody, twineFields, wheelFilename, writeWheel } from '../helpers/pypi-fixtures.js';
import { zipOf } from '../helpers/stored-zip.js';
import { OciLayout } from './harness/oci-layout.js';
import { npmEnv } from './harness/two-sites.js';
import { auditPage, launchBrowser, newContext, pageErrors, uiLogin } from './ui/browser.js';
import { startUiCluster, uiSkipReason, type UiCluster } from './ui/ui-cluster.js';

/**
 * The "packages" part of the web UI (issue 19) in a real browser through nginx in front of a
 * three-node cluster: Set Me
 * Up's generated token used by a real `npm install`, snippets that resolve through a virtual
 * repository, package views of seven formats, the package search, the Build Info browser and
 * the trash can; at 1366×768 and 390×844, axe-core on every page, no console errors.
 */

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
const NPM = ['/usr/bin/npm', '/usr/local/bin/npm'].find((p) => existsSync(p));
const PIP = ['/usr/bin/pip3', '/usr/local/bin/pip3', '/root/.pyenv/shims/pip3'].find((p) => existsSync(p));

if (uiSkipReason) console.warn(`[skip] packages UI e2e: ${uiSkipReason}`);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

describe.skipIf(!!uiSkipReason)('packages UI e2e through nginx in front of a three-node cluster', () => {
  let target: UiCluster;
  /** The balancer: `url` for the UI, `base` for the REST API and the clients. */
  const node = {
    get url() {
      return target.url;
    },
    get base() {
      return `${target.url}/artifactory`;
    },
    get port() {
      return new URL(target.url).port;
    },
  };
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const work = mkdtempSync(join(tmpdir(), 'arca-ui-packages-'));
  const audited: string[] = [];

  async function call(method: string, path: string, body?: RequestInit['body'], headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(`${node.base}${path}`, { method, body, headers: { authorization: ADMIN_AUTH, ...headers } });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res;
  }
  const repo = (key: string, config: Record<string, unknown>) => call('PUT', `/api/repositories/${key}`, JSON.stringify(config), { 'content-type': 'application/json' });

  /**
   * The shared audit (axe-core's default rules at 1366×768 and 390×844, light and dark, no
   * sideways scrolling, screenshots test-output/ui/packages-{name}-*.png): nothing found.
   */
  async function check(name: string): Promise<void> {
    await page.waitForLoadState('networkidle');
    await page.locator('.skeleton').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
    const a = await auditPage(page, `packages-${name}`);
    expect([...a.violations, ...a.overflow], `audit of ${name}`).toEqual([]);
    audited.push(name);
  }

  const open = async (path: string) => {
    await page.goto(`${node.url}/ui${path}`);
    await page.locator('#page-title').waitFor();
  };

  beforeAll(async () => {
    target = await startUiCluster();
    // npm: a package with a dependency and a readme, through a virtual repository.
    await repo('npm-local', { rclass: 'local', packageType: 'npm' });
    await repo('npm-virtual', { rclass: 'virtual', packageType: 'npm', repositories: ['npm-local'], defaultDeploymentRepo: 'npm-local' });
    // Maven, PyPI, Docker, Helm, Go, Cargo, generic (the trash).
    await repo('maven-local', { rclass: 'local', packageType: 'maven' });
    await repo('pypi-local', { rclass: 'local', packageType: 'pypi' });
    await repo('pypi-virtual', { rclass: 'virtual', packageType: 'pypi', repositories: ['pypi-local'], defaultDeploymentRepo: 'pypi-local' });
    await repo('docker-local', { rclass: 'local', packageType: 'docker' });
    await repo('helm-local', { rclass: 'local', packageType: 'helm' });
    await repo('go-local', { rclass: 'local', packageType: 'go' });
    await repo('cargo-local', { rclass: 'local', packageType: 'cargo' });
    await repo('files-local', { rclass: 'local', packageType: 'generic' });
    await repo('gems-local', { rclass: 'local', packageType: 'gems' });
    for (const v of ['1.9.0', '1.10.0']) await call('PUT', `/gems-local/gems/ui-gem-${v}.gem`, buildGem({ name: 'ui-gem', version: v, dependencies: { rack: '>= 2.0' } }));

    if (NPM) {
      const rc = join(work, 'publish.npmrc');
      // A password goes in _auth (base64 of user:password), as the snippet says.
      writeFileSync(rc, `//127.0.0.1:${node.port}/artifactory/api/npm/npm-local/:_auth=${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}\n`);
      const env = npmEnv({ npm_config_userconfig: rc, npm_config_cache: join(work, 'npm-cache') });
      for (const [name, version, deps] of [
        ['ui-dep', '1.0.0', {}],
        ['ui-pkg', '1.9.0', { 'ui-dep': '^1.0.0' }],
        ['ui-pkg', '1.10.0', { 'ui-dep': '^1.0.0' }],
      ] as const) {
        const dir = join(work, `${name}-${version}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, description: `The ${name} package`, main: 'index.js', license: 'MIT', dependencies: deps }));
        writeFileSync(join(dir, 'index.js'), `module.exports = ${JSON.stringify(version)};\n`);
        writeFileSync(join(dir, 'README.md'), `# ${name}\n\nReadme of ${name} <script>alert(1)</script>\n`);
        const r = await run(NPM, ['publish', '--registry', `${node.base}/api/npm/npm-local/`], env, dir);
        expect(r.code, r.out).toBe(0);
      }
    }
    for (const v of ['1.9.0', '1.10.0']) {
      const pom = `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>org.acme</groupId><artifactId>demo</artifactId><version>${v}</version><name>Demo</name><description>A demo library</description><dependencies><dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.9</version></dependency><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency></dependencies></project>\n`;
      await call('PUT', `/maven-local/org/acme/demo/${v}/demo-${v}.pom`, pom);
      await call('PUT', `/maven-local/org/acme/demo/${v}/demo-${v}.jar`, zipOf([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' }]));
    }
    // PyPI: a real wheel in twine's form.
    const wheel = join(work, wheelFilename('ui-lib', '0.3.0'));
    writeWheel(wheel, { name: 'ui-lib', version: '0.3.0', summary: 'A UI test library' });
    const content = readFileSync(wheel);
    const form = multipartBody({ fields: twineFields('ui-lib', '0.3.0', content, 'bdist_wheel'), filename: wheelFilename('ui-lib', '0.3.0'), content });
    await call('POST', '/api/pypi/pypi-local', form.body, { 'content-type': form.contentType });
    // Helm: a chart with a README and a dependency.
    const chartYaml = 'apiVersion: v2\nname: ui-chart\nversion: 0.2.0\nappVersion: "1.4"\ndescription: A chart for the UI test\ndependencies:\n  - name: redis\n    version: 17.0.0\n    repository: https://charts.example.com\n';
    const chart = tgzOf([
      { name: 'ui-chart/Chart.yaml', data: chartYaml },
      { name: 'ui-chart/values.yaml', data: 'replicaCount: 1\n' },
      { name: 'ui-chart/README.md', data: '# ui-chart\n\nHow to install ui-chart.\n' },
    ]);
    await call('PUT', '/api/helm/helm-local/ui-chart-0.2.0.tgz', chart);
    // Go: a module with a requirement.
    const mod = 'example.com/ui/greet';
    const goMod = `module ${mod}\n\ngo 1.21\n\nrequire golang.org/x/text v0.14.0 // indirect\n`;
    for (const [ext, body] of [
      ['zip', zipOf([{ name: `${mod}@v1.2.0/go.mod`, data: goMod }, { name: `${mod}@v1.2.0/greet.go`, data: 'package greet\n' }])],
      ['mod', Buffer.from(goMod)],
      ['info', Buffer.from(JSON.stringify({ Version: 'v1.2.0', Time: '2026-01-02T03:04:05Z' }))],
    ] as const) {
      await call('PUT', `/api/go/go-local/${mod}/@v/v1.2.0.${ext}`, body);
    }
    // Cargo: a crate with a dependency.
    await call('PUT', '/api/cargo/cargo-local/api/v1/crates/new', publishBody(publishMetadata('ui-crate', '0.4.0', [{ name: 'serde', version_req: '^1.0' }]), crateOf('ui-crate', '0.4.0', { extra: [{ path: 'ui-crate-0.4.0/README.md', data: '# ui-crate\n\nUsing ui-crate.\n' }] })));
    // Docker: an index over two platforms, and a plain image.
    if (SKOPEO) {
      const layout = new OciLayout(join(work, 'oci'));
      const amd = layout.image({ os: 'linux', architecture: 'amd64' }, [{ 'a.txt': 'amd64\n' }]);
      const arm = layout.image({ os: 'linux', architecture: 'arm64' }, [{ 'a.txt': 'arm64\n' }]);
      layout.tag('1.0', amd);
      layout.tag('multi', layout.index([
        { manifest: amd, platform: { os: 'linux', architecture: 'amd64' } },
        { manifest: arm, platform: { os: 'linux', architecture: 'arm64' } },
      ]));
      for (const tag of ['1.0', 'multi']) {
        const r = await run(SKOPEO, ['copy', '--all', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, `oci:${join(work, 'oci')}:${tag}`, `docker://127.0.0.1:${node.port}/docker-local/team/app:${tag}`], process.env);
        expect(r.code, r.out).toBe(0);
      }
    }
    // A build with a module, an artifact, a dependency, then a promotion.
    const jar = await (await call('GET', '/api/storage/maven-local/org/acme/demo/1.10.0/demo-1.10.0.jar')).json() as { checksums: { sha1: string; md5: string; sha256: string } };
    await call(
      'PUT',
      '/api/build',
      JSON.stringify({
        version: '1.0.1',
        name: 'ui-build',
        number: '7',
        started: '2026-12-01T10:00:00.000+0000',
        agent: { name: 'jfrog-cli-go', version: '2.50.0' },
        url: 'https://ci.example.com/ui-build/7',
        vcs: [{ url: 'https://git.example.com/acme/demo.git', revision: 'abc123', branch: 'main' }],
        modules: [
          {
            id: 'org.acme:demo:1.10.0',
            type: 'maven',
            artifacts: [{ type: 'jar', name: 'demo-1.10.0.jar', ...jar.checksums }],
            dependencies: [{ id: 'org.slf4j:slf4j-api:2.0.9', type: 'jar', sha1: '7cf2726fdcfbc8610f9a71fb3ed639871f315340', scopes: ['compile'] }],
          },
        ],
      }),
      { 'content-type': 'application/json' },
    );
    await repo('maven-release', { rclass: 'local', packageType: 'maven' });
    await call('POST', '/api/build/promote/ui-build/7', JSON.stringify({ status: 'Released', comment: 'Ship it', targetRepo: 'maven-release', copy: true }), { 'content-type': 'application/json' });
    // The trash: two files deleted from a local repository.
    await call('PUT', '/files-local/docs/keep.txt', 'restore me\n');
    await call('PUT', '/files-local/docs/gone.txt', 'empty me\n');
    await call('DELETE', '/files-local/docs/keep.txt');
    await call('DELETE', '/files-local/docs/gone.txt');

    browser = await launchBrowser();
    const context = await newContext(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: node.url });
    page = await context.newPage();
    await page.setViewportSize({ width: 1366, height: 768 });
    errors = pageErrors(page);
    await uiLogin(page, node.url, 'admin', ADMIN_PASSWORD);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await target?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it.skipIf(!NPM)('Set Me Up generates a token, puts it in the .npmrc, and a real npm install with that .npmrc succeeds', async () => {
    await open('/browse/npm-local');
    const setup = page.locator('section.setup');
    await setup.waitFor();
    await expect.poll(() => setup.getByTestId('setup-roles').textContent()).toContain('resolve through the virtual repository npm-virtual');
    // Before a token: a password never goes in _authToken.
    const before = (await setup.getByTestId('setup-snippet').textContent()) ?? '';
    expect(before).not.toContain('_authToken');
    expect(before).toContain(':_auth=');
    await setup.getByRole('button', { name: 'Generate token' }).click();
    await setup.getByRole('status').filter({ hasText: 'A new access token' }).waitFor();
    const npmrc = (await setup.getByTestId('setup-snippet').textContent()) ?? '';
    expect(npmrc).toContain(`registry=${node.base}/api/npm/npm-virtual/`);
    expect(npmrc).toMatch(/npm-virtual\/:_authToken=ey/);
    // The token is in every snippet that takes credentials.
    const tabs = setup.getByRole('tab');
    for (let i = 0; i < (await tabs.count()); i++) {
      await tabs.nth(i).click();
      const text = (await setup.getByTestId('setup-snippet').textContent()) ?? '';
      expect(text, await tabs.nth(i).textContent() ?? '').not.toContain('<ACCESS_TOKEN>');
    }
    await tabs.first().click();
    await setup.getByRole('button', { name: 'Copy the npm snippet' }).click();
    await expect.poll(() => setup.getByRole('button', { name: /the npm snippet$/ }).getAttribute('data-copy-state')).toBe('copied');
    // The browse page around Set Me Up (its two columns at 390 px) is the browse helper's: not measured here.
    await check('setup-npm');

    const dir = join(work, 'consumer');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const rc = join(work, 'generated.npmrc');
    writeFileSync(rc, npmrc);
    const r = await run(NPM!, ['install', 'ui-pkg@1.10.0'], npmEnv({ npm_config_userconfig: rc, npm_config_cache: join(work, 'npm-cache-2') }), dir);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'node_modules', 'ui-pkg', 'package.json'), 'utf8')).version).toBe('1.10.0');
    expect(existsSync(join(dir, 'node_modules', 'ui-dep', 'package.json'))).toBe(true);
  });

  it.skipIf(!PIP)('the pip.conf of Set Me Up, with a generated token, lets a real pip download through the virtual repository', async () => {
    await open('/browse/pypi-local');
    const setup = page.locator('section.setup');
    await expect.poll(() => setup.getByTestId('setup-roles').textContent()).toContain('resolve through the virtual repository pypi-virtual');
    await setup.getByRole('button', { name: 'Generate token' }).click();
    await setup.getByRole('status').filter({ hasText: 'A new access token' }).waitFor();
    await setup.getByRole('tab', { name: 'pip' }).click();
    const conf = (await setup.getByTestId('setup-snippet').textContent()) ?? '';
    expect(conf).toMatch(/index-url = http:\/\/admin:ey[^@]+@127\.0\.0\.1:\d+\/artifactory\/api\/pypi\/pypi-virtual\/simple/);
    const file = join(work, 'pip.conf');
    writeFileSync(file, conf);
    const out = join(work, 'pip-out');
    const r = await run(PIP!, ['download', '--no-deps', '--disable-pip-version-check', '--no-cache-dir', '-d', out, 'ui-lib==0.3.0'], { ...process.env, PIP_CONFIG_FILE: file });
    expect(r.code, r.out).toBe(0);
    expect(existsSync(join(out, wheelFilename('ui-lib', '0.3.0')))).toBe(true);
    await check('setup-pip');
  });

  it('the Maven snippet of a local repository is no mirror of everything, and says why', async () => {
    await open('/browse/maven-local');
    const setup = page.locator('section.setup');
    await setup.getByTestId('setup-roles').filter({ hasText: 'No virtual Maven repository includes it' }).waitFor();
    const settings = (await setup.getByTestId('setup-snippet').textContent()) ?? '';
    expect(settings).not.toContain('mirrorOf');
    expect(settings).toContain(`<url>${node.base}/maven-local</url>`);
    expect(await setup.getByTestId('setup-note').textContent()).toContain('beside Maven Central');
    // The client tabs by keyboard: arrow keys move between them.
    await setup.getByRole('tab', { name: 'Maven', exact: true }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => setup.getByRole('tab', { name: 'Deploy from Maven' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Deploy from Maven');
    expect(await setup.getByTestId('setup-snippet').textContent()).toContain(`<url>${node.base}/maven-local</url>`);
    expect(await setup.getByTestId('setup-snippet').textContent()).toContain('<distributionManagement>');
    await page.keyboard.press('ArrowLeft');
    await check('setup-maven-local');
  });

  it('package views: npm, Maven, PyPI, Docker, Helm, Go, Cargo and RubyGems', async () => {
    if (NPM) {
      await open('/packages/npm/npm-local/ui-pkg');
      const card = page.getByTestId('npm-package');
      await card.getByTestId('npm-versions').waitFor();
      // Natural version order, newest first: 1.10.0 above 1.9.0.
      expect(await card.getByTestId('npm-versions').locator('tbody tr td:first-child').allTextContents()).toEqual(['1.10.0', '1.9.0']);
      expect(await card.getByTestId('npm-install').textContent()).toBe('npm install ui-pkg@1.10.0');
      expect(await card.getByTestId('npm-deps').textContent()).toContain('ui-dep');
      await card.getByText('Tarball size').waitFor();
      // The readme is text: the <script> in it is shown, not run.
      expect(await card.getByTestId('npm-readme').textContent()).toContain('<script>alert(1)</script>');
      await check('view-npm');
    }
    await open('/packages/maven/maven-local/org.acme%3Ademo');
    const maven = page.getByTestId('maven-package');
    await maven.getByTestId('maven-deps').waitFor();
    expect(await maven.getByTestId('maven-versions').locator('tbody tr td:first-child').allTextContents()).toEqual(['1.10.0', '1.9.0']);
    expect(await maven.getByTestId('maven-dependency').textContent()).toContain('<version>1.10.0</version>');
    expect(await maven.getByTestId('maven-deps').textContent()).toContain('junit:junit');
    await check('view-maven');

    await open('/packages/pypi/pypi-local/ui-lib');
    const pypi = page.getByTestId('pypi-package');
    await pypi.getByTestId('pypi-versions').waitFor();
    expect(await pypi.getByTestId('pypi-install').textContent()).toBe('pip install ui-lib==0.3.0');
    await check('view-pypi');

    if (SKOPEO) {
      await open('/packages/docker/docker-local/team/app');
      const tags = page.getByTestId('docker-tags');
      await tags.waitFor();
      const text = (await tags.textContent()) ?? '';
      // The index gives one row per platform, each with its digest.
      expect(text).toContain('linux/amd64');
      expect(text).toContain('linux/arm64');
      expect(await tags.locator('tbody tr').count()).toBe(3);
      expect(text).toContain('sha256:');
      await check('view-docker');
    }

    await open('/packages/helm/helm-local/ui-chart');
    const helm = page.getByTestId('helm-package');
    await helm.getByTestId('helm-readme').waitFor();
    expect(await helm.getByTestId('helm-readme').textContent()).toContain('How to install ui-chart.');
    expect(await helm.getByTestId('helm-deps').textContent()).toContain('redis');
    expect(await helm.getByTestId('helm-install').textContent()).toBe('helm install my-release helm-local/ui-chart --version 0.2.0');
    await check('view-helm');

    await open('/packages/go/go-local/example.com/ui/greet?version=v1.2.0');
    const go = page.getByTestId('go-package');
    await go.getByTestId('go-deps').waitFor();
    expect(await go.getByTestId('go-deps').textContent()).toContain('golang.org/x/text');
    expect(await go.getByTestId('go-install').textContent()).toBe('go get example.com/ui/greet@v1.2.0');
    await check('view-go');

    await open('/packages/cargo/cargo-local/ui-crate?version=0.4.0');
    const cargo = page.getByTestId('cargo-package');
    await cargo.getByTestId('cargo-deps').waitFor();
    expect(await cargo.getByTestId('cargo-deps').textContent()).toContain('serde');
    await cargo.getByTestId('cargo-readme').waitFor();
    expect(await cargo.getByTestId('cargo-readme').textContent()).toContain('Using ui-crate.');
    // The description comes from the version's record, read after the index.
    await expect.poll(() => cargo.textContent()).toContain('The ui-crate crate');
    expect(await cargo.getByTestId('cargo-install').textContent()).toBe('cargo add ui-crate@0.4.0 --registry cargo-local');
    await check('view-cargo');

    await open('/packages/gems/gems-local/ui-gem');
    const gems = page.getByTestId('gems-package');
    await gems.getByTestId('gems-deps').waitFor();
    expect(await gems.getByTestId('gems-versions').locator('tbody tr td:first-child').allTextContents()).toEqual(['1.10.0', '1.9.0']);
    expect(await gems.getByTestId('gems-deps').textContent()).toContain('rack');
    expect(await gems.getByTestId('gems-install').textContent()).toBe('gem install ui-gem -v 1.10.0');
    await check('view-gems');
  });

  it('package search by format, name and version leads to the package view', async () => {
    await open('/packages');
    await page.getByLabel('Format').selectOption('maven');
    await page.getByLabel('Name contains').fill('demo');
    await page.getByLabel('Version contains').fill('1.10');
    await page.getByRole('button', { name: 'Search packages' }).click();
    const results = page.getByTestId('package-results');
    await page.waitForURL(/version=1\.10/);
    await expect.poll(() => results.locator('tbody tr').count()).toBe(1);
    await results.getByRole('link', { name: 'org.acme:demo' }).waitFor();
    expect(await results.getByRole('link', { name: 'org.acme:demo' }).getAttribute('href')).toContain('version=1.10.0');
    await check('search');
    // All formats: the chart, the crate and the module are found by name.
    await open('/packages?name=ui');
    await results.getByRole('link', { name: 'ui-chart' }).waitFor();
    await results.getByRole('link', { name: 'ui-crate' }).waitFor();
    await results.getByRole('link', { name: 'ui-chart' }).click();
    await page.getByTestId('helm-package').waitFor();
  });

  it('the Build Info browser: builds, runs, modules, artifacts, dependencies and promotions', async () => {
    await open('/builds');
    await page.getByTestId('builds').getByRole('link', { name: 'ui-build' }).click();
    await page.getByTestId('build-runs').getByRole('link', { name: '7' }).waitFor();
    await check('builds-runs');
    await page.getByTestId('build-runs').getByRole('link', { name: '7' }).click();
    await page.getByTestId('build-modules').waitFor();
    expect(await page.getByTestId('build-modules').textContent()).toContain('org.acme:demo:1.10.0');
    expect(await page.getByTestId('build-artifacts').textContent()).toContain('demo-1.10.0.jar');
    expect(await page.getByTestId('build-dependencies').textContent()).toContain('org.slf4j:slf4j-api:2.0.9');
    const promotions = (await page.getByTestId('build-promotions').textContent()) ?? '';
    expect(promotions).toContain('Released');
    expect(promotions).toContain('maven-release');
    await check('builds-run');
    // An artifact's "Find" searches the repositories by its checksum.
    await page.getByTestId('build-artifacts').getByRole('link', { name: 'Find demo-1.10.0.jar in the repositories' }).click();
    await page.getByTestId('search-results').getByRole('link', { name: 'maven-local/org/acme/demo/1.10.0/demo-1.10.0.jar' }).waitFor();
    await check('checksum-search');
    await open('/builds');
    await check('builds');
  });

  it('the trash can: search, restore, empty', async () => {
    await open('/trash');
    const table = page.getByTestId('trash');
    await table.getByText('files-local/docs/keep.txt').waitFor();
    await check('trash');
    await page.getByLabel('Name or path contains').fill('keep');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await table.getByRole('button', { name: 'Restore files-local/docs/keep.txt' }).click();
    await page.getByRole('status').filter({ hasText: 'Restored files-local/docs/keep.txt' }).waitFor();
    expect((await fetch(`${node.base}/files-local/docs/keep.txt`, { headers: { authorization: ADMIN_AUTH } })).status).toBe(200);
    await open('/trash');
    await table.getByText('files-local/docs/gone.txt').waitFor();
    await page.getByRole('button', { name: 'Empty the trash can' }).click();
    await page.getByRole('button', { name: 'Yes, delete everything for good' }).click();
    await table.getByText('The trash can is empty.').waitFor();
    await check('trash-empty');
  });

  it('a non-admin sees no trash listing and no admin actions, only the restore-by-path form', async () => {
    await call('PUT', '/api/security/users/pat', JSON.stringify({ name: 'pat', email: 'pat@example.com', password: 'Pat-Passw0rd!1' }), { 'content-type': 'application/json' });
    await call('PUT', '/api/v2/security/permissions/pat-maven', JSON.stringify({ name: 'pat-maven', repo: { repositories: ['maven-local'], actions: { users: { pat: ['read'] } } } }), { 'content-type': 'application/json' });
    const context = await newContext(browser);
    const other = await context.newPage();
    const otherErrors = pageErrors(other);
    try {
      await uiLogin(other, node.url, 'pat', 'Pat-Passw0rd!1');
      otherErrors.length = 0;
      await other.goto(`${node.url}/ui/trash`);
      await other.getByRole('heading', { name: 'Restore a path' }).waitFor();
      expect(await other.getByRole('button', { name: 'Empty the trash can' }).count()).toBe(0);
      expect(await other.getByTestId('trash').count()).toBe(0);
      // Set Me Up offers a non-admin the token too, and no "New repository" link.
      await other.goto(`${node.url}/ui/browse/maven-local`);
      await other.locator('section.setup').getByRole('button', { name: 'Generate token' }).waitFor();
      expect(await other.locator('section.setup').getByRole('link', { name: 'New repository' }).count()).toBe(0);
      expect(otherErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('searches packages by keyboard alone', async () => {
    await open('/packages');
    await page.locator('#page-title').focus();
    const tabTo = async (selector: string) => {
      for (let i = 0; i < 30 && !(await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)); i++) await page.keyboard.press('Tab');
      expect(await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`), `focus reaches ${selector}`).toBe(true);
    };
    await tabTo('#pkg-format');
    // Type-ahead in the format list.
    await page.keyboard.type('Car');
    expect(await page.locator('#pkg-format').inputValue()).toBe('cargo');
    await tabTo('#pkg-name');
    await page.keyboard.type('ui-crate');
    await page.keyboard.press('Enter');
    const link = page.getByTestId('package-results').getByRole('link', { name: 'ui-crate' });
    await link.waitFor();
    await link.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('cargo-package').waitFor();
  });

  it('had no console errors and no page errors, and ran axe on every page', () => {
    expect(errors).toEqual([]);
    expect(audited.length).toBeGreaterThan(10);
  });
});
