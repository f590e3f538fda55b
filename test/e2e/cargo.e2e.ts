import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { crateOf, publishBody, publishMetadata } from '../helpers/cargo-crates.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * The real cargo against real `arca start` processes, over the sparse protocol on plain
 * http (cargo accepts it): `cargo login` with an access token from the token API, `cargo
 * publish` of two crates (one depending on the other), `cargo run` of a project that depends
 * on them and on a crate of a second Arca node through a virtual repository (a local member
 * and a remote member proxying that node), `cargo yank` and `cargo yank --undo`. cargo never
 * reaches crates.io: its home is a temp folder whose only registries are Arca's. Once on one
 * node, once through nginx in front of a two-node cluster.
 */

const CARGO = '/root/.cargo/bin/cargo';
const HAVE_CARGO = existsSync(CARGO);
if (!HAVE_CARGO) console.warn(`[skip] cargo e2e: ${CARGO} is missing (install Rust with rustup)`);

function run(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(CARGO, args, { cwd: opts.cwd, env: opts.env, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

function writeCrate(dir: string, manifest: string, lib: string, main?: string): string {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'Cargo.toml'), manifest);
  writeFileSync(join(dir, 'src', main === undefined ? 'lib.rs' : 'main.rs'), main ?? lib);
  return dir;
}

/** A second Arca node holding `far-crate` 1.0.0, which the remote member of the virtual repository proxies. */
let far: NodeProcess | undefined;

beforeAll(async () => {
  if (!HAVE_CARGO) return;
  far = await startNodeProcess();
  const put = await fetch(`${far.base}/api/repositories/far-local`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'far-local', rclass: 'local', packageType: 'cargo' }),
  });
  expect(put.status, await put.text()).toBe(200);
  const body = publishBody(publishMetadata('far-crate', '1.0.0'), crateOf('far-crate', '1.0.0', { variant: 7 }));
  const pub = await fetch(`${far.base}/api/cargo/far-local/api/v1/crates/new`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body });
  expect(pub.status, await pub.text()).toBe(200);
}, 90_000);

afterAll(async () => {
  await far?.cleanup();
});

function cargoFlow(label: string, base: () => string) {
  describe.skipIf(!HAVE_CARGO)(`cargo through ${label}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-cargo-e2e-'));
    const home = join(dir, 'cargo-home');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CARGO_HOME: home,
      CARGO_TARGET_DIR: join(dir, 'target'),
      CARGO_TERM_COLOR: 'never',
      CARGO_HTTP_TIMEOUT: '60',
      // rustup's proxy finds its toolchains here, not in CARGO_HOME.
      RUSTUP_HOME: process.env.RUSTUP_HOME ?? '/root/.rustup',
    };
    const cargo = (args: string[], cwd = dir, input?: string) => run(args, { cwd, env, input });
    const index = (repo: string) => `${base()}/api/cargo/${repo}/index/`;
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${base()}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const indexLines = async (repo: string, path: string) => {
      const res = await api('GET', `/api/cargo/${repo}/index/${path}`);
      expect(res.status).toBe(200);
      return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { vers: string; yanked: boolean });
    };

    beforeAll(async () => {
      const repos: [string, Record<string, unknown>][] = [
        ['cargo-local', { rclass: 'local' }],
        ['cargo-remote', { rclass: 'remote', url: `${far!.base}/api/cargo/far-local/index`, username: 'admin', password: ADMIN_PASSWORD }],
        ['cargo-virtual', { rclass: 'virtual', repositories: ['cargo-local', 'cargo-remote'], defaultDeploymentRepo: 'cargo-local' }],
      ];
      for (const [key, config] of repos) {
        const res = await api('PUT', `/api/repositories/${key}`, { key, packageType: 'cargo', ...config });
        expect(res.status, await res.text()).toBe(200);
      }
      mkdirSync(home, { recursive: true });
      writeFileSync(
        join(home, 'config.toml'),
        [
          '[registries.arca]',
          `index = "sparse+${index('cargo-local')}"`,
          '[registries.arca-virtual]',
          `index = "sparse+${index('cargo-virtual')}"`,
          '[registry]',
          'default = "arca"',
          'global-credential-providers = ["cargo:token"]',
          '',
        ].join('\n'),
      );
    }, 60_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('logs in with an access token from the token API (raw, and as Bearer)', async () => {
      const res = await api('POST', '/api/security/token', { username: 'admin', scope: 'applied-permissions/admin', expires_in: 3600 });
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { access_token: string }).access_token;
      const raw = await cargo(['login', '--registry', 'arca'], dir, `${token}\n`);
      expect(raw.code, raw.out).toBe(0);
      const bearer = await cargo(['login', '--registry', 'arca-virtual'], dir, `Bearer ${token}\n`);
      expect(bearer.code, bearer.out).toBe(0);
    });

    it('publishes two crates, the second depending on the first', async () => {
      const baseCrate = writeCrate(
        join(dir, 'arca-base'),
        '[package]\nname = "arca-base"\nversion = "0.1.0"\nedition = "2021"\ndescription = "A base crate"\nlicense = "MIT"\n',
        'pub fn answer() -> u32 {\n    42\n}\n',
      );
      const first = await cargo(['publish', '--registry', 'arca', '--allow-dirty', '--no-verify'], baseCrate);
      expect(first.code, first.out).toBe(0);
      const appLib = writeCrate(
        join(dir, 'arca-app-lib'),
        '[package]\nname = "arca-app-lib"\nversion = "0.1.0"\nedition = "2021"\ndescription = "Uses the base"\nlicense = "MIT"\n\n[dependencies]\narca-base = { version = "0.1", registry = "arca" }\n',
        'pub fn total() -> u32 {\n    arca_base::answer() + 1\n}\n',
      );
      const second = await cargo(['publish', '--registry', 'arca', '--allow-dirty', '--no-verify'], appLib);
      expect(second.code, second.out).toBe(0);
      const again = await cargo(['publish', '--registry', 'arca', '--allow-dirty', '--no-verify'], appLib);
      expect(again.code).not.toBe(0);
      // cargo reads the index first and refuses by itself; the server refuses too (cargo-api.test.ts).
      expect(again.out).toMatch(/already (exists|uploaded)/);
      expect((await indexLines('cargo-local', 'ar/ca/arca-app-lib')).map((l) => l.vers)).toEqual(['0.1.0']);
    });

    it('builds and runs a project depending on them and on the remote node\'s crate, through the virtual repository', async () => {
      const app = writeCrate(
        join(dir, 'app'),
        '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\narca-app-lib = { version = "0.1", registry = "arca-virtual" }\nfar-crate = { version = "1", registry = "arca-virtual" }\n',
        '',
        'fn main() {\n    println!("total={} far={}", arca_app_lib::total(), far_crate::VARIANT);\n}\n',
      );
      const built = await cargo(['run', '--quiet'], app);
      expect(built.code, built.out).toBe(0);
      expect(built.out).toContain('total=43 far=7');
      // The remote member cached the crate it proxied.
      expect((await api('GET', '/api/storage/cargo-remote/crates/far-crate/far-crate-1.0.0.crate')).status).toBe(200);
    });

    it('yanks a version and takes the yank back', async () => {
      const yank = await cargo(['yank', '--registry', 'arca', 'arca-base@0.1.0']);
      expect(yank.code, yank.out).toBe(0);
      expect((await indexLines('cargo-local', 'ar/ca/arca-base'))[0].yanked).toBe(true);
      expect((await indexLines('cargo-virtual', 'ar/ca/arca-base'))[0].yanked).toBe(true);
      const undo = await cargo(['yank', '--undo', '--registry', 'arca', 'arca-base@0.1.0']);
      expect(undo.code, undo.out).toBe(0);
      expect((await indexLines('cargo-local', 'ar/ca/arca-base'))[0].yanked).toBe(false);
    });

    it('searches the registry', async () => {
      const found = await cargo(['search', '--registry', 'arca', 'arca']);
      expect(found.code, found.out).toBe(0);
      expect(found.out).toMatch(/arca-base = "0\.1\.0"/);
      expect(found.out).toMatch(/arca-app-lib = "0\.1\.0"/);
    });
  });
}

describeOnNodeAndCluster('cargo', cargoFlow);
