import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { goModule, type GoModule } from '../helpers/go-fixtures.js';
import { zipOf } from '../helpers/stored-zip.js';
import { startTlsFront, type TlsFront } from '../helpers/go-tls-front.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * The real go command (Debian golang-go) against real `arca start` processes: modules
 * deployed to a local repository as `jf go-publish` deploys them (PUT of the zip, the .mod
 * and the .info with a `go.version` matrix parameter), then `go list -m -versions`,
 * `go mod download` and `go build` of a program that needs them through a virtual
 * repository whose remote member proxies a second node, with basic auth from `.netrc` and
 * the checksum database off (private modules). The go command sends `.netrc` credentials
 * over https only, so it reaches the server through an https front with a test CA. A hostile
 * zip is refused and nothing stored.
 */

const GO = '/usr/bin/go';
const HAVE_GO = existsSync(GO);
if (!HAVE_GO) console.warn(`[skip] go e2e: ${GO} is not installed (Debian golang-go)`);

/** The build cache is shared by both runs: only the module downloads need to start fresh. */
const shared = mkdtempSync(join(tmpdir(), 'arca-go-e2e-cache-'));
afterAll(() => rmSync(shared, { recursive: true, force: true }));

const GREET = 'example.com/arca/greet';
/** Upper case in the path: escaped as `!shout` on the wire and in the module cache. */
const SHOUT = 'example.com/arca/Shout';
const TIP = 'example.com/arca/tip';
const TIP_VERSION = 'v0.0.0-20240102030405-0123456789ab';

function run(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(GO, args, { cwd, timeout: 120_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

function goFlow(label: string, base: () => string) {
  describe.skipIf(!HAVE_GO)(`go through ${label}`, () => {
    let node: string;
    let upstream: NodeProcess;
    let front: TlsFront;
    const dir = mkdtempSync(join(tmpdir(), 'arca-go-e2e-'));
    const app = join(dir, 'app');
    let env: Record<string, string>;

    const api = (at: string, method: string, path: string, body?: unknown) =>
      fetch(`${at}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    /** A deploy as `jf go-publish` sends it: the raw module path, the version as a matrix parameter. */
    async function publish(at: string, repo: string, module: string, version: string, m: GoModule) {
      for (const [ext, body] of [['zip', m.zip], ['mod', m.mod], ['info', m.info]] as const) {
        const res = await fetch(`${at}/api/go/${repo}/${module}/@v/${version}.${ext};go.version=${version}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body });
        expect(res.status, `${module}@${version}.${ext}: ${await res.text()}`).toBe(201);
      }
    }

    beforeAll(async () => {
      upstream = await startNodeProcess();
      node = base();
      for (const [at, key, config] of [
        [upstream.base, 'go-up', { rclass: 'local' }],
        [node, 'go-local', { rclass: 'local' }],
        [node, 'go-remote', { rclass: 'remote', url: `${upstream.base}/api/go/go-up`, username: 'admin', password: ADMIN_PASSWORD, retrievalCachePeriodSecs: 0 }],
        [node, 'go-virtual', { rclass: 'virtual', repositories: ['go-remote', 'go-local'], defaultDeploymentRepo: 'go-local' }],
      ] as const) {
        const res = await api(at, 'PUT', `/api/repositories/${key}`, { packageType: 'go', ...config });
        expect(res.status, await res.text()).toBe(200);
      }
      const home = join(dir, 'home');
      mkdirSync(home);
      front = await startTlsFront(new URL(node).origin, dir);
      writeFileSync(join(home, '.netrc'), `machine 127.0.0.1\nlogin admin\npassword ${ADMIN_PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'empty-netrc'), '');
      env = {
        HOME: home,
        NETRC: join(home, '.netrc'),
        SSL_CERT_FILE: front.caFile,
        GOPATH: join(dir, 'gopath'),
        GOMODCACHE: join(dir, 'modcache'),
        GOCACHE: join(shared, 'build'),
        GOPROXY: `${front.origin}/artifactory/api/go/go-virtual`,
        GOFLAGS: '-mod=mod',
        // Private modules: the public checksum database knows nothing of them.
        GOSUMDB: 'off',
        GO111MODULE: 'on',
        CGO_ENABLED: '0',
        GOTELEMETRY: 'off',
      };
      mkdirSync(app);
      writeFileSync(join(app, 'go.mod'), `module example.com/app\n\ngo 1.19\n\nrequire (\n\t${GREET} v1.1.0\n\t${SHOUT} v0.2.0\n)\n`);
      writeFileSync(
        join(app, 'main.go'),
        `package main\n\nimport (\n\t"fmt"\n\n\t"${GREET}"\n\tshout "${SHOUT}"\n)\n\nfunc main() {\n\tfmt.Println(shout.Loud(greet.Hello("arca")))\n}\n`,
      );
    }, 120_000);

    afterAll(async () => {
      await front?.close();
      await upstream?.cleanup();
      // The module cache is written read-only by go (and only this test's cache is named here).
      if (env) await run(['clean', '-modcache'], dir, env);
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('deploys modules as go-publish does: greet to the local repository, Shout to the upstream node', async () => {
      for (const v of ['v1.0.0', 'v1.1.0']) {
        await publish(node, 'go-local', GREET, v, goModule(GREET, v, { 'greet.go': `package greet\n\nfunc Hello(who string) string { return "hello " + who + " from ${v}" }\n` }));
      }
      // Shout needs an older greet: minimal version selection takes the newer one the app asks for.
      const shoutMod = Buffer.from(`module ${SHOUT}\n\ngo 1.19\n\nrequire ${GREET} v1.0.0\n`);
      const shout: GoModule = {
        mod: shoutMod,
        zip: zipOf([
          { name: `${SHOUT}@v0.2.0/go.mod`, data: shoutMod, deflate: true },
          { name: `${SHOUT}@v0.2.0/shout.go`, data: 'package shout\n\nimport "strings"\n\nfunc Loud(s string) string { return strings.ToUpper(s) + "!" }\n', deflate: true },
        ]),
        info: Buffer.from(JSON.stringify({ Version: 'v0.2.0', Time: '2024-03-04T05:06:07Z' })),
      };
      await publish(upstream.base, 'go-up', SHOUT, 'v0.2.0', shout);
      // A module with a pseudo-version only: its list is empty, go asks @latest.
      await publish(upstream.base, 'go-up', TIP, TIP_VERSION, goModule(TIP, TIP_VERSION, { 'tip.go': 'package tip\n' }));
      await publish(upstream.base, 'go-up', SHOUT, 'v0.1.0', goModule(SHOUT, 'v0.1.0', { 'shout.go': 'package shout\n\nfunc Loud(s string) string { return s }\n' }));
    }, 60_000);

    it('go list -m -versions through the virtual repository, local and remote members', async () => {
      const anonymous = await run(['list', '-m', '-versions', GREET], app, { ...env, NETRC: join(dir, 'empty-netrc') });
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.out).toContain('401 Unauthorized');
      const greet = await run(['list', '-m', '-versions', GREET], app, env);
      expect(greet.code, greet.out).toBe(0);
      expect(greet.out).toContain(`${GREET} v1.0.0 v1.1.0`);
      const shout = await run(['list', '-m', '-versions', SHOUT], app, env);
      expect(shout.code, shout.out).toBe(0);
      expect(shout.out).toContain(`${SHOUT} v0.1.0 v0.2.0`);
      const latest = await run(['list', '-m', '-json', `${GREET}@latest`], app, env);
      expect(latest.code, latest.out).toBe(0);
      expect(latest.out).toContain('"Version": "v1.1.0"');
      const tip = await run(['list', '-m', '-json', `${TIP}@latest`], app, env);
      expect(tip.code, tip.out).toBe(0);
      expect(tip.out).toContain(`"Version": "${TIP_VERSION}"`);
    }, 120_000);

    it('go mod download and go build of a program that needs both, then runs it', async () => {
      const dl = await run(['mod', 'download', '-x'], app, env);
      expect(dl.code, dl.out).toBe(0);
      expect(existsSync(join(dir, 'modcache', 'cache', 'download', 'example.com', 'arca', '!shout', '@v', 'v0.2.0.zip'))).toBe(true);
      expect(existsSync(join(dir, 'modcache', 'example.com', 'arca', 'greet@v1.1.0', 'greet.go'))).toBe(true);
      const build = await run(['build', '-o', join(dir, 'app-bin'), '.'], app, env);
      expect(build.code, build.out).toBe(0);
      const out = await new Promise<string>((resolve, reject) => execFile(join(dir, 'app-bin'), (err, stdout) => (err ? reject(err) : resolve(stdout))));
      expect(out).toBe('HELLO ARCA FROM V1.1.0!\n');
      // The remote member cached what it proxied.
      expect((await api(node, 'GET', `/api/storage/go-remote/example.com/arca/!shout/@v/v0.2.0.zip`)).status).toBe(200);
    }, 180_000);

    it('go reports a module version that is not there with the server\'s plain-text answer', async () => {
      const r = await run(['mod', 'download', `${GREET}@v9.9.9`], app, env);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/404 Not Found/);
    }, 60_000);

    it('refuses a hostile zip with 400 and stores nothing', async () => {
      const P = `${GREET}@v1.2.0/`;
      const hostile = zipOf([
        { name: `${P}go.mod`, data: `module ${GREET}\n` },
        { name: `${P}../../../escape.go`, data: 'package evil\n' },
      ]);
      const res = await fetch(`${node}/api/go/go-local/${GREET}/@v/v1.2.0.zip`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: hostile });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toContain("'..'");
      expect((await api(node, 'GET', `/api/storage/go-local/example.com/arca/greet/@v/v1.2.0.zip`)).status).toBe(404);
      const versions = await run(['list', '-m', '-versions', GREET], app, env);
      expect(versions.out).toContain(`${GREET} v1.0.0 v1.1.0\n`);
    }, 60_000);
  });
}

describeOnNodeAndCluster('go', goFlow);
