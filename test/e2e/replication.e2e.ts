import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { sha256Hex, wheelFilename, writeWheel } from '../helpers/pypi-fixtures.js';
import { NGINX } from './harness/cluster.js';
import { deployMany, sha256, type Deployed } from './harness/load.js';
import { layoutRef, OciLayout } from './harness/oci-layout.js';
import { converged, npmEnv, pending, pushBody, REPLICATOR, run, runState, sentOf, sha1, Site, sleep, until } from './harness/two-sites.js';

/**
 * Replication between two sites (issue 16): site A is three nodes on PostgreSQL behind nginx,
 * site B one node on a PostgreSQL of its own. Replication is configured through the REST API
 * as a user would, with a non-admin user of the target site. Real clients publish to A and
 * read back from B; a delivering node is SIGKILLed mid-load; B is stopped for 30 s; deletes
 * and properties are synced or not; a multi-push, a pull and two sites replicating to each
 * other.
 */

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
const CREDS = `admin:${ADMIN_PASSWORD}`;
const M2_GROUP = `org.arca.repl.g${randomBytes(4).toString('hex')}`;

if (!NGINX) console.warn('[skip] replication e2e: nginx is not installed (apt-get install nginx)');

describe.skipIf(!NGINX)('replication between two sites (A: 3 nodes + nginx on PostgreSQL; B: 1 node on its own PostgreSQL)', () => {
  const A = new Site('A', 3, true);
  const B = new Site('B', 1, false);
  const both = [A, B];
  const dir = mkdtempSync(join(tmpdir(), 'arca-repl-e2e-'));

  beforeAll(async () => {
    await Promise.all([A.start(), B.start()]);
    const generic = { rclass: 'local', packageType: 'generic' };
    const local: [string, Record<string, unknown>][] = [
      ['mvn-rep', { rclass: 'local', packageType: 'maven' }],
      ['npm-rep', { rclass: 'local', packageType: 'npm' }],
      ['py-rep', { rclass: 'local', packageType: 'pypi' }],
      ['docker-rep', { rclass: 'local', packageType: 'docker' }],
      ['kill-local', generic],
      ['outage-local', generic],
      ['sync-local', generic],
      ['both-local', generic],
    ];
    for (const [key, cfg] of local) {
      await A.createRepo(key, cfg);
      await B.createRepo(key, cfg);
    }
    await A.createRepo('multi-local', generic);
    await B.createRepo('multi-t1', generic);
    await B.createRepo('multi-t2', generic);
    await A.createRepo('pull-src', generic);
    await B.createRepo('pull-remote', { rclass: 'remote', packageType: 'generic', url: `${A.base}/pull-src`, username: REPLICATOR.user, password: REPLICATOR.password });
    await B.createReplicator([...local.map(([k]) => k), 'multi-t1', 'multi-t2']);
    await A.createReplicator(['both-local', 'pull-src']);
    for (const [key] of local) if (key !== 'sync-local') await A.must('PUT', `/api/replications/${key}`, pushBody(B, key));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(both.map((s) => s.destroy()));
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(homedir(), '.m2', 'repository', ...M2_GROUP.split('.')), { recursive: true, force: true });
  }, 120_000);

  it('the configuration API took the bodies as given (no password answered)', async () => {
    const shown = JSON.parse(await A.must('GET', '/api/replications/kill-local')) as Record<string, unknown>[];
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ url: `${B.base}/kill-local`, username: REPLICATOR.user, enableEventReplication: true, syncDeletes: true });
    expect(shown[0]).not.toHaveProperty('password');
  });

  it('mvn, npm, twine and skopeo publish to A; the same clients read it back from B', async () => {
    const groupPath = M2_GROUP.replace(/\./g, '/');
    // Maven: deploy-file of a small jar to A (plugins come from ~/.m2: no network here).
    const settings = join(dir, 'settings.xml');
    writeFileSync(settings, `<settings><servers><server><id>arca</id><username>admin</username><password>${ADMIN_PASSWORD}</password></server></servers></settings>\n`);
    mkdirSync(join(dir, 'jar'));
    writeFileSync(join(dir, 'jar', 'a.txt'), `replicated ${M2_GROUP}\n`);
    await run('jar', ['cf', join(dir, 'lib.jar'), '-C', join(dir, 'jar'), 'a.txt']);
    await run(
      'mvn',
      ['-B', '-s', settings, 'org.apache.maven.plugins:maven-deploy-plugin:3.1.1:deploy-file', `-Durl=${A.base}/mvn-rep`, '-DrepositoryId=arca', `-Dfile=${join(dir, 'lib.jar')}`, `-DgroupId=${M2_GROUP}`, '-DartifactId=lib', '-Dversion=1.0', '-Dpackaging=jar'],
      { cwd: dir },
    );
    // npm: publish with a token of A.
    const tokenOf = async (s: Site) =>
      ((await (await fetch(`${s.base}/api/npm/npm-rep/-/user/org.couchdb.user:admin`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD }) })).json()) as { token: string }).token;
    const npmrc = (s: Site, token: string) => {
      const file = join(dir, `npmrc-${s.name}`);
      const reg = `${s.base}/api/npm/npm-rep/`;
      writeFileSync(file, `registry=${reg}\n${reg.replace(/^https?:/, '')}:_authToken=${token}\n`);
      return npmEnv({ npm_config_userconfig: file, npm_config_cache: join(dir, `npm-cache-${s.name}`), npm_config_globalconfig: join(dir, 'none') });
    };
    const pkgDir = join(dir, 'npm-pkg');
    mkdirSync(pkgDir);
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: 'repl-demo', version: '1.2.3', main: 'index.js' }));
    writeFileSync(join(pkgDir, 'index.js'), 'module.exports = "replicated";\n');
    await run('npm', ['publish'], { cwd: pkgDir, env: npmrc(A, await tokenOf(A)) });
    // twine: a wheel to A's PyPI repository.
    const wheel = join(dir, wheelFilename('repl-demo', '1.0'));
    writeWheel(wheel, { name: 'repl-demo', version: '1.0', files: { 'repl_demo/__init__.py': "V = '1.0'\n" } });
    await run('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', `${A.base}/api/pypi/py-rep`, '-u', 'admin', '-p', ADMIN_PASSWORD, wheel]);
    // skopeo: an OCI image to A's docker repository.
    const layout = new OciLayout(join(dir, 'oci'));
    const image = layout.image({ os: 'linux', architecture: 'amd64' }, [{ 'hello.txt': 'replicated image\n' }]);
    layout.tag('v1', image);
    if (SKOPEO) await run(SKOPEO, ['copy', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${join(dir, 'oci')}:v1`, `docker://${A.host}/docker-rep/e2e/app:v1`]);
    else console.warn('[skip] the skopeo part of the client round trip: skopeo is not installed (apt-get install skopeo)');

    // Everything A stored reaches B (the files as A lists them, same checksums).
    for (const repo of ['mvn-rep', 'npm-rep', 'py-rep', ...(SKOPEO ? ['docker-rep'] : [])]) {
      const onA = new Map((await A.list(repo)).map((f) => [f.uri.replace(/^\//, ''), f.sha2 ?? '']));
      expect(onA.size, `${repo} on A`).toBeGreaterThan(0);
      const ms = await until(
        `${repo} on B to hold what A holds`,
        60_000,
        async () => {
          const onB = new Map((await B.list(repo)).map((f) => [f.uri.replace(/^\//, ''), f.sha2 ?? '']));
          const missing = [...onA].filter(([p, s]) => onB.get(p) !== s).map(([p]) => p);
          return missing.length === 0 ? true : `missing or different on B: ${missing.join(', ')}`;
        },
        both,
      );
      console.log(`[replication e2e] ${repo}: ${onA.size} files on B after ${ms} ms`);
    }

    // mvn on B: a project depending on the jar resolves it from B's repository.
    const proj = join(dir, 'consumer');
    mkdirSync(join(proj, 'src', 'main', 'java', 'e2e'), { recursive: true });
    writeFileSync(join(proj, 'src', 'main', 'java', 'e2e', 'Hello.java'), 'package e2e;\npublic class Hello {}\n');
    writeFileSync(
      join(proj, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>${M2_GROUP}</groupId><artifactId>consumer</artifactId><version>1.0</version>
  <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <repositories><repository><id>arca</id><url>${B.base}/mvn-rep</url></repository></repositories>
  <dependencies><dependency><groupId>${M2_GROUP}</groupId><artifactId>lib</artifactId><version>1.0</version></dependency></dependencies>
  <build><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.11.0</version></plugin>
  </plugins></build>
</project>\n`,
    );
    rmSync(join(homedir(), '.m2', 'repository', ...M2_GROUP.split('.')), { recursive: true, force: true });
    const mvnOut = await run('mvn', ['-B', '-s', settings, 'compile'], { cwd: proj });
    expect(mvnOut).toContain('BUILD SUCCESS');
    expect(mvnOut).toContain(`${B.base}/mvn-rep/${groupPath}/lib/1.0/lib-1.0.jar`);

    // npm install from B.
    const app = join(dir, 'npm-app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { 'repl-demo': '^1.2.0' } }));
    await run('npm', ['install', '--ignore-scripts'], { cwd: app, env: npmrc(B, await tokenOf(B)) });
    expect(JSON.parse(readFileSync(join(app, 'node_modules', 'repl-demo', 'package.json'), 'utf8')).version).toBe('1.2.3');
    expect(readFileSync(join(app, 'node_modules', 'repl-demo', 'index.js'), 'utf8')).toContain('replicated');

    // pip download from B, its hash checked by pip against B's index.
    const dl = join(dir, 'pip-dl');
    await run('pip', ['--isolated', 'download', '--no-cache-dir', '--no-deps', '-d', dl, '--index-url', `http://admin:${encodeURIComponent(ADMIN_PASSWORD)}@${B.host}/artifactory/api/pypi/py-rep/simple/`, 'repl-demo==1.0'], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    expect(sha256Hex(readFileSync(join(dl, wheelFilename('repl-demo', '1.0'))))).toBe(sha256Hex(readFileSync(wheel)));

    // skopeo from B: the same manifest digest, the image copied out.
    if (SKOPEO) {
      const raw = await run(SKOPEO, ['inspect', '--raw', '--tls-verify=false', '--creds', CREDS, `docker://${B.host}/docker-rep/e2e/app:v1`]);
      expect(sha256(Buffer.from(raw.trim()))).toBe(image.digest.replace('sha256:', ''));
      await run(SKOPEO, ['copy', '--src-tls-verify=false', '--src-creds', CREDS, `docker://${B.host}/docker-rep/e2e/app:v1`, `oci:${join(dir, 'oci-out')}:v1`]);
      expect(layoutRef(join(dir, 'oci-out'), 'v1')?.digest).toBe(image.digest);
    }
  }, 300_000);

  it('SIGKILL of the node delivering events during 500 deploys: every acknowledged deploy reaches B once, with its checksum', async () => {
    const deployed: Deployed[] = [];
    let victim: (typeof A.nodes)[number] | undefined;
    let why = '';
    let killing: Promise<void> | undefined;
    const result = await deployMany(A.url, 'kill-local', 500, 8, {
      sink: deployed,
      onProgress: (done) => {
        if (done !== 150 || killing) return;
        killing = (async () => {
          // The node whose worker holds (or last held) a lease on this target's events.
          const owners = await A.sql<{ lease_owner: string }>(
            `select lease_owner from replication_events where repo = 'kill-local' and lease_owner is not null order by id desc limit 20`,
          ).catch(() => []);
          victim = A.nodes.find((n) => owners.some((o) => o.lease_owner.includes(n.id)));
          why = victim ? `lease owners ${[...new Set(owners.map((o) => o.lease_owner))].join(', ')}` : `no lease owner names a node (${JSON.stringify(owners.slice(0, 3))}); killing art2`;
          victim ??= A.nodes[1];
          console.log(`[replication e2e] SIGKILL ${victim.id} at deploy 150: ${why}`);
          await A.cluster.kill(victim, 'SIGKILL');
        })();
      },
    });
    await killing;
    expect(victim).toBeDefined();
    console.log(`[replication e2e] 500 deploys: ${result.ok.length} acknowledged, ${result.failed} failed (through nginx during the kill)`);
    expect(result.ok.length).toBeGreaterThanOrEqual(480);
    await A.cluster.startNode(victim!);

    // What A holds (acknowledged deploys, and any a killed connection committed without an
    // answer) is exactly what B holds: nothing missing, nothing extra, right checksums.
    const onA = new Map((await A.list('kill-local')).map((f) => [f.uri.replace(/^\//, ''), f.sha2 ?? '']));
    for (const d of deployed) expect(onA.get(d.path), d.path).toBe(d.sha256);
    const ms = await converged(B, 'kill-local', onA, 120_000, both);
    console.log(`[replication e2e] B converged ${ms} ms after the last deploy (${onA.size} files)`);
    // Each path once, readable with its bytes.
    const listed = (await B.list('kill-local')).map((f) => f.uri);
    expect(new Set(listed).size).toBe(listed.length);
    for (const d of deployed.slice(0, 50)) {
      const res = await fetch(`${B.base}/kill-local/${d.path}`, { headers: { authorization: ADMIN_AUTH } });
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(d.sha256);
    }
    await until('A\'s queue to drain', 60_000, async () => ((await pending(A)) === 0 ? true : `${await pending(A)} pending`), both);
    const failed = (await A.queue()).filter((r) => r.state === 2);
    expect(failed, 'events marked failed on A').toEqual([]);
  }, 300_000);

  it('B stopped for 30 s during deploys: A keeps accepting, B catches up, a scheduled reconcile finds nothing to send', async () => {
    const deployed: Deployed[] = [];
    let stop = false;
    let failures = 0;
    let i = 0;
    const loader = (async () => {
      while (!stop) {
        const body = randomBytes(2048);
        const path = `out/${Math.floor(i / 50)}/f-${i++}.bin`;
        const res = await fetch(`${A.url}/artifactory/outage-local/${path}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body });
        await res.arrayBuffer();
        if (res.status === 201) deployed.push({ path, sha256: sha256(body) });
        else failures++;
        await sleep(40);
      }
    })();
    await sleep(3000);
    const bNode = B.nodes[0];
    await B.cluster.kill(bNode, 'SIGTERM');
    const downAt = deployed.length;
    await sleep(30_000);
    const duringOutage = deployed.length - downAt;
    await B.cluster.startNode(bNode);
    await sleep(3000);
    stop = true;
    await loader;
    console.log(`[replication e2e] outage: ${deployed.length} deploys on A (${duringOutage} while B was down), ${failures} refused`);
    expect(failures).toBe(0);
    expect(duringOutage).toBeGreaterThan(100);
    const want = new Map(deployed.map((d) => [d.path, d.sha256]));
    const ms = await converged(B, 'outage-local', want, 180_000, both);
    console.log(`[replication e2e] B caught up ${ms} ms after the deploys ended`);

    // A scheduled run (as its cron would start it), after which the run record says nothing was sent.
    const before = await runState(A, 'outage-local');
    const requested = Date.now();
    const exec = await A.api('POST', '/api/replication/execute/outage-local');
    expect([200, 202], await exec.text()).toContain(exec.status);
    let after = before;
    await until(
      'a run of outage-local completed after the execute request',
      120_000,
      async () => {
        after = await runState(A, 'outage-local');
        const last = Date.parse(String(after.status.lastCompleted ?? '')) || 0;
        return last >= requested && after.status.status !== 'running' ? true : `status ${JSON.stringify(after.status)}, record ${JSON.stringify(after.record)}`;
      },
      both,
    );
    console.log(`[replication e2e] reconcile run record: ${JSON.stringify(after.record)}; status: ${JSON.stringify(after.status)}`);
    const sent = sentOf(after.record);
    expect(sent, `a count of files sent in the run record ${JSON.stringify(after.record)}`).toBeDefined();
    expect(sent).toBe(0);
    expect(String(after.status.status)).not.toMatch(/fail|error/i);
  }, 300_000);

  it('syncDeletes and syncProperties on, then off', async () => {
    const put = async (path: string, body: string) => {
      const res = await fetch(`${A.base}/sync-local/${path}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body });
      expect(res.status, await res.text()).toBe(201);
    };
    const onB = async (path: string) => (await fetch(`${B.base}/sync-local/${path}`, { headers: { authorization: ADMIN_AUTH } })).status;
    const drained = () => until('A\'s queue to drain', 60_000, async () => ((await pending(A)) === 0 ? true : `${await pending(A)} pending`), both);

    await A.must('PUT', '/api/replications/sync-local', pushBody(B, 'sync-local', { syncDeletes: true, syncProperties: true }));
    await put('a.txt;color=red;team=core', 'alpha');
    await put('b.txt', 'bravo');
    await until('a.txt on B with its properties', 60_000, async () => {
      const p = await B.properties('sync-local', 'a.txt');
      return p.color?.[0] === 'red' && p.team?.[0] === 'core' ? true : JSON.stringify(p);
    }, both);
    await A.must('PUT', '/api/storage/sync-local/a.txt?properties=color=blue', undefined, [200, 204]);
    await until('the property change on B', 60_000, async () => {
      const p = await B.properties('sync-local', 'a.txt');
      return p.color?.[0] === 'blue' ? true : JSON.stringify(p);
    }, both);
    await until('b.txt on B', 60_000, async () => ((await onB('b.txt')) === 200 ? true : 'absent'), both);
    await A.must('DELETE', '/sync-local/b.txt', undefined, [200, 204]);
    await until('the delete on B', 60_000, async () => ((await onB('b.txt')) === 404 ? true : 'still there'), both);

    await A.must('POST', '/api/replications/sync-local', { url: `${B.base}/sync-local`, syncDeletes: false, syncProperties: false });
    // Every node's delivery reads the targets' configuration about once a second.
    await sleep(3000);
    await put('c.txt;color=green', 'charlie');
    await until('c.txt on B', 60_000, async () => ((await onB('c.txt')) === 200 ? true : 'absent'), both);
    expect(await B.properties('sync-local', 'c.txt')).toEqual({});
    await A.must('PUT', '/api/storage/sync-local/a.txt?properties=color=black', undefined, [200, 204]);
    await A.must('DELETE', '/sync-local/a.txt', undefined, [200, 204]);
    await drained();
    await sleep(2000);
    expect(await onB('a.txt')).toBe(200);
    expect((await B.properties('sync-local', 'a.txt')).color).toEqual(['blue']);
  }, 300_000);

  it('a multi-push sends each deploy to two targets', async () => {
    const status = await A.api('PUT', '/api/replications/multiple/multi-local', {
      cronExp: '0 0 3 * * ?',
      enableEventReplication: true,
      replications: [pushBody(B, 'multi-t1'), pushBody(B, 'multi-t2')],
    });
    expect(status.status, await status.text()).toBe(201);
    const deployed = (await deployMany(A.url, 'multi-local', 40, 4, { prefix: 'multi' })).ok;
    expect(deployed).toHaveLength(40);
    const want = new Map(deployed.map((d) => [d.path, d.sha256]));
    await converged(B, 'multi-t1', want, 60_000, both);
    await converged(B, 'multi-t2', want, 60_000, both);
  }, 180_000);

  it('a pull replication pre-caches a remote repository on B from A', async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ path: `pulled/p-${i}.bin`, body: randomBytes(4096 + i) }));
    for (const f of files) {
      const res = await fetch(`${A.base}/pull-src/${f.path}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: f.body });
      expect(res.status).toBe(201);
    }
    await B.must('PUT', '/api/replications/pull-remote', { cronExp: '0 0 3 * * ?', enabled: true });
    const exec = await B.api('POST', '/api/replication/execute/pull-remote');
    expect([200, 202], await exec.text()).toContain(exec.status);
    // Nobody asked B for these files: they are in the remote's cache because of the pull.
    // `{remote}-cache` answers from the cache only, never asking the upstream.
    const cached = async (f: (typeof files)[number]) => {
      const res = await fetch(`${B.base}/pull-remote-cache/${f.path}`, { headers: { authorization: ADMIN_AUTH } });
      const body = Buffer.from(await res.arrayBuffer());
      return res.status === 200 && sha1(body) === sha1(f.body);
    };
    await until('the pulled files in pull-remote-cache on B', 120_000, async () => {
      const missing: string[] = [];
      for (const f of files) if (!(await cached(f))) missing.push(f.path);
      return missing.length === 0 ? true : `not cached yet: ${missing.join(', ')}`;
    }, both);
    const state = await runState(B, 'pull-remote');
    console.log(`[replication e2e] pull run: ${JSON.stringify(state.status)} record ${JSON.stringify(state.record)}`);
  }, 180_000);

  it('A→B and B→A on the same repository: both converge, nothing bounces, event counts settle', async () => {
    await B.must('PUT', '/api/replications/both-local', pushBody(A, 'both-local'));
    const fromA = (await deployMany(A.url, 'both-local', 10, 2, { prefix: 'from-a' })).ok;
    const fromB = (await deployMany(B.url, 'both-local', 10, 2, { prefix: 'from-b' })).ok;
    expect(fromA.length + fromB.length).toBe(20);
    const want = new Map([...fromA, ...fromB].map((d) => [d.path, d.sha256]));
    await converged(B, 'both-local', want, 60_000, both);
    await converged(A, 'both-local', want, 60_000, both);
    const count = async (s: Site) => (await s.sql<{ n: number }>(`select count(*)::int as n from replication_events where repo = 'both-local'`))[0].n;
    const pendingOf = async (s: Site) => (await s.sql<{ n: number }>(`select count(*)::int as n from replication_events where repo = 'both-local' and state <> 1`))[0].n;
    await until('both queues to settle', 60_000, async () => {
      const p = [await pendingOf(A), await pendingOf(B)];
      return p[0] + p[1] === 0 ? true : `not delivered: A ${p[0]}, B ${p[1]}`;
    }, both);
    const settled = [await count(A), await count(B)];
    const modified = new Map((await B.list('both-local')).map((f) => [f.uri, f.sha1]));
    await sleep(5000);
    const later = [await count(A), await count(B)];
    console.log(`[replication e2e] A↔B event counts: ${settled.join('/')} settled, ${later.join('/')} 5 s later`);
    expect(later).toEqual(settled);
    // Each site has its own ten changes, plus at most one echo each that the other site answered as a loop.
    expect(settled[0]).toBeGreaterThanOrEqual(10);
    expect(settled[0]).toBeLessThanOrEqual(20);
    expect(settled[1]).toBeGreaterThanOrEqual(10);
    expect(settled[1]).toBeLessThanOrEqual(20);
    expect(new Map((await B.list('both-local')).map((f) => [f.uri, f.sha1]))).toEqual(modified);
    expect((await A.list('both-local')).length).toBe(20);
  }, 180_000);
});
