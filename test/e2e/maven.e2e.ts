import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../src/formats/maven/maven-metadata.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * The real `mvn` against Arca: deploy-file to a local repository, a project whose `mvn
 * compile` resolves that artifact (and one proxied by a remote member) through a virtual
 * repository, and `mvn deploy` of a release and a SNAPSHOT through the virtual repository.
 * Maven Central is unreachable: plugins come from ~/.m2 and are pinned; the test's own
 * groupId is random and removed from ~/.m2 afterwards.
 */

function mvn(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('mvn', ['-B', ...args], { cwd, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`mvn ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

const PLUGINS = `<build><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.11.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-install-plugin</artifactId><version>3.1.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-deploy-plugin</artifactId><version>3.1.1</version></plugin>
  </plugins></build>`;

/** Runs the whole Maven flow against `base` (`http://host:port/artifactory`). */
function mavenFlow(label: string, baseOf: () => string): void {
  describe(`mvn through ${label}`, () => {
    const group = `org.arca.e2e.g${randomBytes(4).toString('hex')}`;
    const groupPath = group.replace(/\./g, '/');
    const dir = mkdtempSync(join(tmpdir(), 'arca-mvn-e2e-'));
    const settings = join(dir, 'settings.xml');
    let base = '';

    beforeAll(async () => {
      base = baseOf();
      writeFileSync(settings, `<settings><servers><server><id>arca</id><username>admin</username><password>${ADMIN_PASSWORD}</password></server></servers></settings>\n`);
      const repos: [string, Record<string, unknown>][] = [
        ['mvn-e2e-local', { rclass: 'local', packageType: 'maven' }],
        ['mvn-e2e-upstream', { rclass: 'local', packageType: 'maven' }],
        ['mvn-e2e-remote', { rclass: 'remote', packageType: 'maven', url: `${base}/mvn-e2e-upstream`, username: 'admin', password: ADMIN_PASSWORD }],
        ['mvn-e2e-virtual', { rclass: 'virtual', packageType: 'maven', repositories: ['mvn-e2e-remote', 'mvn-e2e-local'], defaultDeploymentRepo: 'mvn-e2e-local' }],
      ];
      for (const [key, config] of repos) {
        const res = await api(base, 'PUT', `/api/repositories/${key}`, config);
        expect(res.status, await res.text()).toBe(200);
      }
      // A tiny jar for deploy-file (a zip with one entry is enough for the compiler's class path).
      mkdirSync(join(dir, 'content'));
      writeFileSync(join(dir, 'content', 'a.txt'), 'hello from the e2e jar\n');
      await new Promise<void>((resolve, reject) => execFile('jar', ['cf', join(dir, 'lib.jar'), '-C', join(dir, 'content'), 'a.txt'], (e) => (e ? reject(e) : resolve())));
    }, 120_000);

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(homedir(), '.m2', 'repository', ...group.split('.')), { recursive: true, force: true });
    });

    const deployFile = (repo: string, artifactId: string, version: string) =>
      mvn(
        ['-s', settings, 'org.apache.maven.plugins:maven-deploy-plugin:3.1.1:deploy-file', `-Durl=${base}/${repo}`, '-DrepositoryId=arca', `-Dfile=${join(dir, 'lib.jar')}`, `-DgroupId=${group}`, `-DartifactId=${artifactId}`, `-Dversion=${version}`, '-Dpackaging=jar'],
        dir,
      );

    it('deploy-file to a local repository stores the jar, the POM, checksums and metadata', async () => {
      await deployFile('mvn-e2e-local', 'lib', '1.0');
      const jar = `${base}/mvn-e2e-local/${groupPath}/lib/1.0/lib-1.0.jar`;
      const info = (await (await fetch(`${base}/api/storage/mvn-e2e-local/${groupPath}/lib/1.0/lib-1.0.jar`, { headers: { authorization: ADMIN_AUTH } })).json()) as {
        checksums: { sha1: string; md5: string };
        originalChecksums: Record<string, string>;
      };
      // Maven uploaded its .sha1 and .md5: recorded as the client's (original) checksums.
      expect(info.originalChecksums).toMatchObject({ sha1: info.checksums.sha1, md5: info.checksums.md5 });
      expect((await (await fetch(`${jar}.sha1`, { headers: { authorization: ADMIN_AUTH } })).text()).trim()).toBe(info.checksums.sha1);
      const meta = parseMetadata(Buffer.from(await (await fetch(`${base}/mvn-e2e-local/${groupPath}/lib/maven-metadata.xml`, { headers: { authorization: ADMIN_AUTH } })).arrayBuffer()));
      expect(meta.versioning).toMatchObject({ versions: ['1.0'], release: '1.0' });
      // Anonymous Maven requests are challenged, which is what makes mvn send its credentials.
      const anon = await fetch(jar);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toBe('Basic realm="Artifactory Realm"');
    });

    it('mvn compile resolves dependencies through the virtual repository (a local and a proxied one)', async () => {
      await deployFile('mvn-e2e-upstream', 'proxied', '2.0');
      const proj = join(dir, 'consumer');
      mkdirSync(join(proj, 'src', 'main', 'java', 'e2e'), { recursive: true });
      writeFileSync(join(proj, 'src', 'main', 'java', 'e2e', 'Hello.java'), 'package e2e;\npublic class Hello { public static String hi() { return "hi"; } }\n');
      writeFileSync(
        join(proj, 'pom.xml'),
        `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>${group}</groupId><artifactId>consumer</artifactId><version>1.0</version>
  <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <repositories><repository><id>arca</id><url>${base}/mvn-e2e-virtual</url></repository></repositories>
  <dependencies>
    <dependency><groupId>${group}</groupId><artifactId>lib</artifactId><version>1.0</version></dependency>
    <dependency><groupId>${group}</groupId><artifactId>proxied</artifactId><version>2.0</version></dependency>
  </dependencies>
  ${PLUGINS}
</project>\n`,
      );
      const out = await mvn(['-s', settings, 'compile'], proj);
      expect(out).toContain('BUILD SUCCESS');
      expect(out).toContain(`mvn-e2e-virtual/${groupPath}/lib/1.0/lib-1.0.jar`);
      expect(out).toContain(`mvn-e2e-virtual/${groupPath}/proxied/2.0/proxied-2.0.jar`);
      // The proxied jar is now in the remote's cache.
      expect((await fetch(`${base}/mvn-e2e-remote-cache/${groupPath}/proxied/2.0/proxied-2.0.jar`, { headers: { authorization: ADMIN_AUTH } })).status).toBe(200);
    });

    it('mvn deploy publishes a release and a SNAPSHOT through the virtual repository', async () => {
      const proj = join(dir, 'published');
      mkdirSync(proj);
      for (const version of ['1.0', '1.1-SNAPSHOT']) {
        writeFileSync(
          join(proj, 'pom.xml'),
          `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>${group}</groupId><artifactId>published</artifactId><version>${version}</version><packaging>pom</packaging>
  <distributionManagement>
    <repository><id>arca</id><url>${base}/mvn-e2e-virtual</url></repository>
    <snapshotRepository><id>arca</id><url>${base}/mvn-e2e-virtual</url></snapshotRepository>
  </distributionManagement>
  ${PLUGINS}
</project>\n`,
        );
        expect(await mvn(['-s', settings, 'deploy'], proj)).toContain('BUILD SUCCESS');
      }
      const get = async (path: string) => parseMetadata(Buffer.from(await (await fetch(`${base}/${path}`, { headers: { authorization: ADMIN_AUTH } })).arrayBuffer()));
      const artifact = await get(`mvn-e2e-local/${groupPath}/published/maven-metadata.xml`);
      expect(artifact.versioning).toMatchObject({ versions: ['1.0', '1.1-SNAPSHOT'], latest: '1.1-SNAPSHOT', release: '1.0' });
      const snapshot = await get(`mvn-e2e-local/${groupPath}/published/1.1-SNAPSHOT/maven-metadata.xml`);
      expect(snapshot.versioning!.snapshot!.buildNumber).toBe(1);
      const value = snapshot.versioning!.snapshotVersions.find((s) => s.extension === 'pom')!.value;
      expect(value).toMatch(/^1\.1-\d{8}\.\d{6}-1$/);
      const pom = await fetch(`${base}/mvn-e2e-virtual/${groupPath}/published/1.1-SNAPSHOT/published-${value}.pom`, { headers: { authorization: ADMIN_AUTH } });
      expect(pom.status).toBe(200);
    });
  });
}

describeOnNodeAndCluster('maven', mavenFlow);
