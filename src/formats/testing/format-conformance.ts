import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The scenarios every package format runs (DESIGN.md habit 1): publish, resolve, redeploy
 * rules, delete, proxy (a remote repository whose upstream is a second Arca node) and
 * virtual (local and remote members, merged metadata, deploys to defaultDeploymentRepo).
 * A format's test only supplies an adapter: how its client publishes, fetches and lists.
 * Everything goes over real HTTP, since a remote repository needs a listening upstream.
 */

/** A running node: `base` is `http://127.0.0.1:<port>/artifactory`, `auth` the admin's header. */
export interface ConformanceNode {
  base: string;
  auth: string;
  /** The admin's credentials (a remote repository uses them for its upstream). */
  user: string;
  password: string;
  close(): Promise<void>;
}

/** One version of a test package; `variant` changes its content for redeploys. */
export interface PackageRef {
  name: string;
  version: string;
  variant?: number;
}

export interface FormatAdapter {
  packageType: string;
  /** Starts a fresh node listening on 127.0.0.1. */
  startNode(): Promise<ConformanceNode>;
  /** Extra configuration for local repositories (defaults otherwise). */
  localConfig?: Record<string, unknown>;
  /** The `url` of a remote repository proxying repository `key` of `upstream`. */
  upstreamUrl(upstream: ConformanceNode, key: string): string;
  /** Publishes a version through `repoKey` as the client would; returns the HTTP status. */
  publish(node: ConformanceNode, repoKey: string, pkg: PackageRef): Promise<number>;
  /** Downloads the version's main file through `repoKey`, as the client would. */
  fetch(node: ConformanceNode, repoKey: string, pkg: PackageRef): Promise<{ status: number; body: Buffer }>;
  /** The bytes `fetch` returns for a published version. */
  expectedContent(pkg: PackageRef): Buffer;
  /** Versions the format's metadata lists through `repoKey`; undefined when the format has no version metadata. */
  versions?(node: ConformanceNode, repoKey: string, name: string): Promise<string[] | undefined>;
  /** Deletes a version as the client (or the REST API) would; returns the HTTP status. */
  remove(node: ConformanceNode, repoKey: string, pkg: PackageRef): Promise<number>;
  /** Whether publishing an existing version again replaces it or is refused. */
  redeploy: 'overwrite' | 'refuse';
}

async function api(node: ConformanceNode, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${node.base}${path}`, {
    method,
    headers: { authorization: node.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Creates a repository through the REST API; fails the test when refused. */
export async function createRepo(node: ConformanceNode, key: string, config: Record<string, unknown>): Promise<void> {
  const res = await api(node, 'PUT', `/api/repositories/${key}`, { key, ...config });
  if (res.status !== 200) throw new Error(`creating repository ${key} failed: ${res.status} ${await res.text()}`);
}

const ok = (status: number) => status >= 200 && status < 300;

export function formatConformance(adapter: FormatAdapter): void {
  const type = adapter.packageType;
  const local = (extra: Record<string, unknown> = {}) => ({ rclass: 'local', packageType: type, ...adapter.localConfig, ...extra });

  describe(`format conformance: ${type}`, () => {
    let node: ConformanceNode;
    let upstream: ConformanceNode;

    beforeAll(async () => {
      [node, upstream] = await Promise.all([adapter.startNode(), adapter.startNode()]);
      await createRepo(node, 'conf-local', local());
      await createRepo(upstream, 'up-local', local());
    });
    afterAll(async () => {
      await node?.close();
      await upstream?.close();
    });

    const listed = async (repo: string, name: string, at = node) => (adapter.versions ? adapter.versions(at, repo, name) : undefined);

    it('publishes a version and resolves it', async () => {
      const pkg = { name: 'conf-alpha', version: '1.0.0' };
      expect(await adapter.publish(node, 'conf-local', pkg)).toSatisfy(ok);
      const got = await adapter.fetch(node, 'conf-local', pkg);
      expect(got.status).toBe(200);
      expect(got.body.equals(adapter.expectedContent(pkg))).toBe(true);
      const versions = await listed('conf-local', pkg.name);
      if (versions === undefined) console.log(`[conformance ${type}] no version metadata: listing checks skipped`);
      else expect(versions).toContain('1.0.0');
    });

    it('answers 404 for a version that was never published', async () => {
      expect((await adapter.fetch(node, 'conf-local', { name: 'conf-alpha', version: '9.9.9' })).status).toBe(404);
      expect((await adapter.fetch(node, 'conf-local', { name: 'conf-never', version: '1.0.0' })).status).toBe(404);
    });

    it(`applies the redeploy rule (${adapter.redeploy})`, async () => {
      const first = { name: 'conf-beta', version: '2.0.0' };
      const again = { ...first, variant: 2 };
      expect(await adapter.publish(node, 'conf-local', first)).toSatisfy(ok);
      const status = await adapter.publish(node, 'conf-local', again);
      const got = await adapter.fetch(node, 'conf-local', first);
      expect(got.status).toBe(200);
      if (adapter.redeploy === 'overwrite') {
        expect(status).toSatisfy(ok);
        expect(got.body.equals(adapter.expectedContent(again))).toBe(true);
      } else {
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        expect(got.body.equals(adapter.expectedContent(first))).toBe(true);
      }
    });

    it('deletes a version: gone from downloads and from the metadata', async () => {
      const keep = { name: 'conf-gamma', version: '1.0.0' };
      const drop = { name: 'conf-gamma', version: '1.1.0' };
      expect(await adapter.publish(node, 'conf-local', keep)).toSatisfy(ok);
      expect(await adapter.publish(node, 'conf-local', drop)).toSatisfy(ok);
      expect(await adapter.remove(node, 'conf-local', drop)).toSatisfy(ok);
      expect((await adapter.fetch(node, 'conf-local', drop)).status).toBe(404);
      expect((await adapter.fetch(node, 'conf-local', keep)).status).toBe(200);
      const versions = await listed('conf-local', 'conf-gamma');
      if (versions !== undefined) {
        expect(versions).toContain('1.0.0');
        expect(versions).not.toContain('1.1.0');
      }
    });

    it('proxies another node, read-only, and serves its cache after the upstream lost the version', async () => {
      const pkg = { name: 'conf-delta', version: '3.0.0' };
      expect(await adapter.publish(upstream, 'up-local', pkg)).toSatisfy(ok);
      await createRepo(node, 'conf-remote', {
        rclass: 'remote',
        packageType: type,
        url: adapter.upstreamUrl(upstream, 'up-local'),
        username: upstream.user,
        password: upstream.password,
        retrievalCachePeriodSecs: 0,
        missedRetrievalCachePeriodSecs: 0,
      });
      const got = await adapter.fetch(node, 'conf-remote', pkg);
      expect(got.status).toBe(200);
      expect(got.body.equals(adapter.expectedContent(pkg))).toBe(true);
      expect((await adapter.fetch(node, 'conf-remote', { name: 'conf-delta', version: '0.0.1' })).status).toBe(404);
      const versions = await listed('conf-remote', pkg.name);
      if (versions !== undefined) expect(versions).toContain('3.0.0');
      // Remote repositories are read-only.
      const refused = await adapter.publish(node, 'conf-remote', { name: 'conf-delta', version: '3.0.1' });
      expect(refused).toBeGreaterThanOrEqual(400);
      expect(refused).toBeLessThan(500);
      // The upstream loses the version: the cached artifact is still served.
      expect(await adapter.remove(upstream, 'up-local', pkg)).toSatisfy(ok);
      const cached = await adapter.fetch(node, 'conf-remote', pkg);
      expect(cached.status).toBe(200);
      expect(cached.body.equals(adapter.expectedContent(pkg))).toBe(true);
    });

    it('resolves through a virtual repository: locals first, merged metadata, deploys to defaultDeploymentRepo', async () => {
      await createRepo(node, 'conf-local-b', local());
      const shared = { name: 'conf-eps', version: '1.0.0' };
      const remoteOnly = { name: 'conf-eps', version: '2.0.0' };
      expect(await adapter.publish(node, 'conf-local-b', shared)).toSatisfy(ok);
      expect(await adapter.publish(upstream, 'up-local', { ...shared, variant: 7 })).toSatisfy(ok);
      expect(await adapter.publish(upstream, 'up-local', remoteOnly)).toSatisfy(ok);
      await createRepo(node, 'conf-virtual', {
        rclass: 'virtual',
        packageType: type,
        repositories: ['conf-remote', 'conf-local-b'],
        defaultDeploymentRepo: 'conf-local-b',
      });
      // The remote member holds its own copy of the shared version in its cache.
      expect((await adapter.fetch(node, 'conf-remote', shared)).body.equals(adapter.expectedContent({ ...shared, variant: 7 }))).toBe(true);
      const a = await adapter.fetch(node, 'conf-virtual', shared);
      expect(a.status).toBe(200);
      // The local member wins over the remote one, though the remote is listed first.
      expect(a.body.equals(adapter.expectedContent(shared))).toBe(true);
      const b = await adapter.fetch(node, 'conf-virtual', remoteOnly);
      expect(b.status).toBe(200);
      expect(b.body.equals(adapter.expectedContent(remoteOnly))).toBe(true);
      const versions = await listed('conf-virtual', 'conf-eps');
      if (versions !== undefined) expect(versions).toEqual(expect.arrayContaining(['1.0.0', '2.0.0']));
      const published = { name: 'conf-eps', version: '3.0.0' };
      expect(await adapter.publish(node, 'conf-virtual', published)).toSatisfy(ok);
      const direct = await adapter.fetch(node, 'conf-local-b', published);
      expect(direct.status).toBe(200);
      expect(direct.body.equals(adapter.expectedContent(published))).toBe(true);
      // Metadata merged across members: 3.0.0 only in the local member, 2.0.0 only upstream.
      const merged = await listed('conf-virtual', 'conf-eps');
      if (merged !== undefined) expect(merged).toEqual(expect.arrayContaining(['1.0.0', '2.0.0', '3.0.0']));
      expect((await adapter.fetch(node, 'conf-virtual', { name: 'conf-eps', version: '8.8.8' })).status).toBe(404);
    });
  });
}
