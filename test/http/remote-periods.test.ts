import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { RemoteFetchService } from '../../src/services/remote-fetch.js';
import type { RepoConfig } from '../../src/services/repositories.js';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

/** The cache periods against a fake clock: exact boundaries, no sleeping. */
describe('remote cache periods (fake clock)', () => {
  let node: TestNode;
  let up: FakeUpstream;
  let clock: FakeClock;
  let remote: RemoteFetchService;
  let n = 0;

  beforeAll(async () => {
    node = await startTestNode();
    up = await new FakeUpstream().start();
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    remote = new RemoteFetchService({ database: node.ctx.database, content: node.ctx.content, clock, formats: node.ctx.formats, masterKey: node.ctx.masterKey });
  });
  afterAll(async () => {
    await node?.close();
    await up?.stop();
  });

  async function repo(config: Record<string, unknown>): Promise<RepoConfig> {
    const key = `per-${++n}`;
    await node.ctx.repos.create(key, { rclass: 'remote', packageType: 'maven', url: `${up.url}/${key}`, ...config });
    return node.ctx.repos.require(key);
  }
  const text = async (r: RepoConfig, path: string) => (await node.ctx.content.readSmall((await remote.fetch(r, path)).sha1!)).toString();

  it('metadata is served from the cache until retrievalCachePeriodSecs has passed', async () => {
    const r = await repo({ retrievalCachePeriodSecs: 60 });
    let body = 'v1';
    up.on(`/${r.key}/g/a/maven-metadata.xml`, () => ({ status: 200, body }));
    expect(await text(r, 'g/a/maven-metadata.xml')).toBe('v1');
    body = 'v2';
    clock.advance(59_999);
    expect(await text(r, 'g/a/maven-metadata.xml')).toBe('v1');
    clock.advance(1);
    expect(await text(r, 'g/a/maven-metadata.xml')).toBe('v2');
    expect(up.count(`/${r.key}/g/a/maven-metadata.xml`)).toBe(2);
  });

  it('an upstream miss is remembered for missedRetrievalCachePeriodSecs', async () => {
    const r = await repo({ missedRetrievalCachePeriodSecs: 30 });
    await expect(remote.fetch(r, 'g/b/1/b-1.jar')).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    up.on(`/${r.key}/g/b/1/b-1.jar`, { status: 200, body: 'jar' });
    clock.advance(29_000);
    await expect(remote.fetch(r, 'g/b/1/b-1.jar')).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    clock.advance(1_000);
    expect(await text(r, 'g/b/1/b-1.jar')).toBe('jar');
  });

  it('after a network failure the upstream is skipped for assumedOfflinePeriodSecs, then asked again', async () => {
    const dead = await new FakeUpstream().start();
    const url = dead.url;
    await dead.stop();
    const key = `per-${++n}`;
    await node.ctx.repos.create(key, { rclass: 'remote', url: `${url}/x`, assumedOfflinePeriodSecs: 10 });
    const r = await node.ctx.repos.require(key);
    await expect(remote.fetch(r, 'a.bin')).rejects.toMatchObject({ code: 'UPSTREAM_FAILED', message: expect.stringContaining('unreachable') });
    await expect(remote.fetch(r, 'a.bin')).rejects.toMatchObject({ message: expect.stringContaining('assumed offline') });
    clock.advance(10_000);
    await expect(remote.fetch(r, 'a.bin')).rejects.toMatchObject({ message: expect.stringContaining('unreachable') });
  });

  it('cacheOnly never asks the upstream and ignores stale metadata', async () => {
    const r = await repo({ retrievalCachePeriodSecs: 5 });
    up.on(`/${r.key}/g/c/maven-metadata.xml`, { status: 200, body: 'm' });
    await expect(remote.fetch(r, 'g/c/maven-metadata.xml', { cacheOnly: true })).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    expect(up.count(`/${r.key}/g/c/maven-metadata.xml`)).toBe(0);
    expect(await text(r, 'g/c/maven-metadata.xml')).toBe('m');
    expect((await remote.fetch(r, 'g/c/maven-metadata.xml', { cacheOnly: true })).sha1).toBeTruthy();
    clock.advance(5_000);
    await expect(remote.fetch(r, 'g/c/maven-metadata.xml', { cacheOnly: true })).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
  });
});
