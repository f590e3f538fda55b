import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { buildGem } from '../helpers/gems-fixtures.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * Debian's `gem` and `bundle` against real `arca start` processes: gems built by `gem build`
 * from gemspecs written here, `gem push` with the API key `api/v1/api_key.yaml` hands out (and
 * with an access token), `gem install` through the compact index, `gem search` through the
 * legacy Marshal specs, `gem yank`, and a Gemfile resolved by `bundle install` (then
 * `bundle update` after another push) through a virtual repository whose remote member
 * proxies a second node. Nothing reaches rubygems.org: every source is cleared and replaced.
 */

const GEM = '/usr/bin/gem';
const BUNDLE = '/usr/bin/bundle';
const missing = [GEM, BUNDLE].filter((p) => !existsSync(p));
if (missing.length > 0) console.warn(`[skip] gems e2e: ${missing.join(', ')} not installed (Debian ruby, ruby-bundler)`);

interface Run {
  code: number;
  out: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env: Record<string, string> }, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: timeoutMs, env: opts.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

function gemspec(name: string, version: string, opts: { deps?: Record<string, string>; platform?: string } = {}): string {
  const deps = Object.entries(opts.deps ?? {})
    .map(([d, req]) => `  s.add_runtime_dependency '${d}', '${req}'\n`)
    .join('');
  return `Gem::Specification.new do |s|
  s.name = '${name}'
  s.version = '${version}'
  s.summary = 'Arca e2e ${name}'
  s.authors = ['Arca Tests']
  s.license = 'MIT'
  s.files = ['lib/${name}.rb']
${opts.platform ? `  s.platform = '${opts.platform}'\n` : ''}${deps}end
`;
}

function gemsFlow(label: string, base: () => string) {
  describe.skipIf(missing.length > 0)(`gem and bundle through ${label}`, () => {
    let upstream: NodeProcess;
    let nodeBase: string;
    const dir = mkdtempSync(join(tmpdir(), 'arca-gems-e2e-'));
    const home = join(dir, 'home');
    const gemHome = join(dir, 'gem-home');
    let apiKey = '';

    const url = (b: string, repo: string) => `${b}/api/gems/${repo}`;
    /** A source URL with the admin's credentials (reads need them: anonymous access is off). */
    const source = (b: string, repo: string) => {
      const u = new URL(`${url(b, repo)}/`);
      u.username = 'admin';
      u.password = ADMIN_PASSWORD;
      return u.toString();
    };
    const env = (extra: Record<string, string> = {}) => ({
      PATH: '/usr/bin:/bin',
      HOME: home,
      GEM_HOME: gemHome,
      GEM_PATH: gemHome,
      GEM_SPEC_CACHE: join(dir, 'spec-cache'),
      BUNDLE_USER_HOME: join(dir, 'bundle-home'),
      BUNDLE_IGNORE_CONFIG: '1',
      LANG: 'C.UTF-8',
      ...extra,
    });
    const api = (b: string, method: string, path: string, body?: unknown) =>
      fetch(`${b}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    /** Writes `{name}.gemspec` and its lib file, runs `gem build`, returns the .gem's path. */
    async function build(name: string, version: string, opts: Parameters<typeof gemspec>[2] = {}): Promise<string> {
      const at = join(dir, 'src', `${name}-${version}${opts.platform ? `-${opts.platform}` : ''}`);
      mkdirSync(join(at, 'lib'), { recursive: true });
      writeFileSync(join(at, 'lib', `${name}.rb`), `module ${name.replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase())}; VERSION = '${version}'; end\n`);
      writeFileSync(join(at, `${name}.gemspec`), gemspec(name, version, opts));
      const r = await run(GEM, ['build', `${name}.gemspec`], { cwd: at, env: env() });
      expect(r.code, r.out).toBe(0);
      const file = readdirSync(at).find((f) => f.endsWith('.gem'));
      expect(file, r.out).toBeDefined();
      return join(at, file!);
    }

    const push = (b: string, repo: string, file: string, key = apiKey) => run(GEM, ['push', file, '--host', url(b, repo)], { env: env({ GEM_HOST_API_KEY: key }) });

    beforeAll(async () => {
      mkdirSync(home, { recursive: true });
      upstream = await startNodeProcess();
      nodeBase = base();
      for (const [b, key, config] of [
        [upstream.base, 'up-gems', { rclass: 'local' }],
        [nodeBase, 'gems-local', { rclass: 'local' }],
        [nodeBase, 'gems-remote', { rclass: 'remote', url: url(upstream.base, 'up-gems'), username: 'admin', password: ADMIN_PASSWORD, retrievalCachePeriodSecs: 0 }],
        [nodeBase, 'gems-virtual', { rclass: 'virtual', repositories: ['gems-local', 'gems-remote'], defaultDeploymentRepo: 'gems-local' }],
      ] as const) {
        const res = await api(b, 'PUT', `/api/repositories/${key}`, { packageType: 'gems', ...config });
        expect(res.status, await res.text()).toBe(200);
      }
    }, 120_000);

    afterAll(async () => {
      await upstream?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('hands out an API key for basic credentials, which gem push uses', async () => {
      const res = await fetch(`${url(nodeBase, 'gems-local')}/api/v1/api_key.yaml`, { headers: { authorization: ADMIN_AUTH } });
      expect(res.status).toBe(200);
      const m = /^:rubygems_api_key: (AKC\S+)$/m.exec(await res.text());
      expect(m).not.toBeNull();
      apiKey = m![1];
      const json = (await (await fetch(`${url(nodeBase, 'gems-local')}/api/v1/api_key.json`, { headers: { authorization: ADMIN_AUTH } })).json()) as { rubygems_api_key: string };
      expect(json.rubygems_api_key).toBe(apiKey);
      expect((await fetch(`${url(nodeBase, 'gems-local')}/api/v1/api_key.json`)).status).toBe(401);

      const dep = await push(upstream.base, 'up-gems', await build('arca_e2e_dep', '1.0.0'), await upstreamKey());
      expect(dep.code, dep.out).toBe(0);
      expect(dep.out).toContain('Successfully registered gem: arca_e2e_dep (1.0.0)');
      // Through the virtual repository: stored in its defaultDeploymentRepo.
      const app = await push(nodeBase, 'gems-virtual', await build('arca_e2e_app', '1.0.0', { deps: { arca_e2e_dep: '~> 1.0' } }));
      expect(app.code, app.out).toBe(0);
      const native = await push(nodeBase, 'gems-local', await build('arca_e2e_native', '0.1.0', { platform: 'x86_64-linux' }));
      expect(native.code, native.out).toBe(0);
      expect((await api(nodeBase, 'GET', '/api/storage/gems-local/gems/arca_e2e_app-1.0.0.gem')).status).toBe(200);
      expect((await api(nodeBase, 'GET', '/api/storage/gems-local/gems/arca_e2e_native-0.1.0-x86_64-linux.gem')).status).toBe(200);
      // A repush of the same version is refused, as rubygems.org refuses it.
      const again = await push(nodeBase, 'gems-local', join(dir, 'src', 'arca_e2e_app-1.0.0', 'arca_e2e_app-1.0.0.gem'));
      expect(again.out).toMatch(/Repushing of gem versions is not allowed/);
    }, 120_000);

    async function upstreamKey(): Promise<string> {
      const res = await fetch(`${url(upstream.base, 'up-gems')}/api/v1/api_key`, { headers: { authorization: ADMIN_AUTH } });
      expect(res.status).toBe(200);
      return (await res.text()).trim();
    }

    it('gem install through the virtual repository (the dependency from the remote member)', async () => {
      const r = await run(GEM, ['install', 'arca_e2e_app', '--clear-sources', '--source', source(nodeBase, 'gems-virtual'), '--no-document', '--install-dir', gemHome], { env: env() });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('Successfully installed arca_e2e_dep-1.0.0');
      expect(r.out).toContain('Successfully installed arca_e2e_app-1.0.0');
      expect(readFileSync(join(gemHome, 'gems', 'arca_e2e_app-1.0.0', 'lib', 'arca_e2e_app.rb'), 'utf8')).toContain("VERSION = '1.0.0'");
      // The installed spec came from the gem; the remote member cached the dependency.
      expect(existsSync(join(gemHome, 'specifications', 'arca_e2e_dep-1.0.0.gemspec'))).toBe(true);
      expect((await api(nodeBase, 'GET', '/api/storage/gems-remote/gems/arca_e2e_dep-1.0.0.gem')).status).toBe(200);
      const native = await run(GEM, ['install', 'arca_e2e_native', '--platform', 'x86_64-linux', '--clear-sources', '--source', source(nodeBase, 'gems-local'), '--no-document', '--install-dir', gemHome], { env: env() });
      expect(native.code, native.out).toBe(0);
      expect(native.out).toContain('Successfully installed arca_e2e_native-0.1.0-x86_64-linux');
    }, 150_000);

    it('gem search reads the legacy Marshal specs', async () => {
      const r = await run(GEM, ['search', 'arca_e2e', '--remote', '--all', '--clear-sources', '--source', source(nodeBase, 'gems-virtual')], { env: env() });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/^arca_e2e_app \(1\.0\.0\)$/m);
      expect(r.out).toMatch(/^arca_e2e_dep \(1\.0\.0\)$/m);
      expect(r.out).toMatch(/^arca_e2e_native \(0\.1\.0 x86_64-linux\)$/m);
    }, 60_000);

    it('bundle install resolves a Gemfile through the virtual repository, bundle update sees a new push', async () => {
      const project = join(dir, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'Gemfile'), `source '${source(nodeBase, 'gems-virtual')}'\n\ngem 'arca_e2e_app', '~> 1.0'\n`);
      const benv = env({ BUNDLE_PATH: join(project, 'vendor'), BUNDLE_GEMFILE: join(project, 'Gemfile') });
      const first = await run(BUNDLE, ['install'], { cwd: project, env: benv });
      expect(first.code, first.out).toBe(0);
      expect(first.out).toContain('Bundle complete!');
      const lock = readFileSync(join(project, 'Gemfile.lock'), 'utf8');
      expect(lock).toMatch(/^ {4}arca_e2e_app \(1\.0\.0\)$/m);
      expect(lock).toMatch(/^ {4}arca_e2e_dep \(1\.0\.0\)$/m);
      // bundler read the compact index (and keeps it, to ask again with If-None-Match and Range).
      const cacheRoot = join(dir, 'bundle-home', 'cache', 'compact_index');
      const [cache] = readdirSync(cacheRoot);
      expect(readFileSync(join(cacheRoot, cache, 'versions'), 'utf8')).toMatch(/^arca_e2e_app 1\.0\.0 [0-9a-f]{32}$/m);
      expect(readFileSync(join(cacheRoot, cache, 'info', 'arca_e2e_dep'), 'utf8')).toMatch(/^1\.0\.0 \|checksum:[0-9a-f]{64}$/m);

      const next = await push(nodeBase, 'gems-local', await build('arca_e2e_app', '1.1.0', { deps: { arca_e2e_dep: '~> 1.0' } }));
      expect(next.code, next.out).toBe(0);
      const update = await run(BUNDLE, ['update', 'arca_e2e_app'], { cwd: project, env: benv });
      expect(update.code, update.out).toBe(0);
      expect(readFileSync(join(project, 'Gemfile.lock'), 'utf8')).toMatch(/^ {4}arca_e2e_app \(1\.1\.0\)$/m);
    }, 200_000);

    it('gem yank with an access token takes the version out of the index', async () => {
      const res = await fetch(`${nodeBase}/api/security/token`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=admin&expires_in=600' });
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { access_token: string }).access_token;
      const r = await run(GEM, ['yank', 'arca_e2e_app', '-v', '1.1.0', '--host', url(nodeBase, 'gems-local')], { env: env({ GEM_HOST_API_KEY: token }) });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('Successfully deleted gem: arca_e2e_app (1.1.0)');
      const info = await (await fetch(`${url(nodeBase, 'gems-virtual')}/info/arca_e2e_app`, { headers: { authorization: ADMIN_AUTH } })).text();
      expect(info).toMatch(/^1\.0\.0 arca_e2e_dep:~> 1\.0\|checksum:[0-9a-f]{64}/m);
      expect(info).not.toContain('1.1.0');
      const missingVersion = await run(GEM, ['yank', 'arca_e2e_app', '-v', '9.9.9', '--host', url(nodeBase, 'gems-local')], { env: env({ GEM_HOST_API_KEY: apiKey }) });
      expect(missingVersion.out).toContain('The version 9.9.9 does not exist.');
    }, 60_000);

    it('refuses hostile gems with rubygems.org-style text and stores nothing', async () => {
      // gem reads the spec and checks the checksums before it pushes, but not the paths inside.
      const file = join(dir, 'traversal.gem');
      writeFileSync(file, buildGem({ name: 'arca_evil', version: '1.0.0', files: { '../../../tmp/owned.rb': 'x' } }));
      const r = await push(nodeBase, 'gems-local', file);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/unsafe path '\.\.\/\.\.\/\.\.\/tmp\/owned\.rb'/);
      // What gem would not send, a hostile client does.
      const cases: [Buffer, RegExp][] = [
        [Buffer.from('this is not a tar archive at all'.repeat(40)), /^The file is not a valid gem/],
        [buildGem({ name: 'arca_evil', version: '1.0.0', badChecksum: true }), /^The SHA256 checksum of data.tar.gz does not match/],
      ];
      for (const [body, why] of cases) {
        const raw = await fetch(`${url(nodeBase, 'gems-local')}/api/v1/gems`, { method: 'POST', headers: { authorization: apiKey, 'content-type': 'application/octet-stream' }, body });
        expect(raw.status).toBe(400);
        expect(raw.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await raw.text()).toMatch(why);
      }
      const renamed = await fetch(`${nodeBase}/gems-local/gems/arca_other-1.0.0.gem`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: buildGem({ name: 'arca_evil', version: '1.0.0' }) });
      expect(renamed.status).toBe(400);
      expect(await renamed.text()).toContain('arca_evil-1.0.0, which does not match the file name arca_other-1.0.0.gem');
      expect((await api(nodeBase, 'GET', '/api/storage/gems-local/gems/arca_other-1.0.0.gem')).status).toBe(404);
      expect((await api(nodeBase, 'GET', '/api/storage/gems-local/gems/arca_evil-1.0.0.gem')).status).toBe(404);
      const names = await (await fetch(`${url(nodeBase, 'gems-local')}/names`, { headers: { authorization: ADMIN_AUTH } })).text();
      expect(names).toBe('---\narca_e2e_app\narca_e2e_native\n');
    }, 60_000);
  });
}

describeOnNodeAndCluster('gem', gemsFlow);
