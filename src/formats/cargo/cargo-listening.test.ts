import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crateOf, publishMetadata } from '../../../test/helpers/cargo-crates.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { createRepo, type ConformanceNode } from '../testing/format-conformance.js';
import { cratePath, storedIndexPath } from './names.js';
import { MAX_PUBLISH_BYTES, parsePublishMetadata } from './publish.js';

/** Cargo scenarios that need listening nodes: a remote's check of proxied crates, and the publish body limit over a socket. */

let node: ConformanceNode;
let upstream: ConformanceNode;

beforeAll(async () => {
  [node, upstream] = await Promise.all([startListeningNode(), startListeningNode()]);
  await createRepo(upstream, 'up', { rclass: 'local', packageType: 'cargo' });
  await createRepo(node, 'proxy', {
    rclass: 'remote',
    packageType: 'cargo',
    url: `${upstream.base}/api/cargo/up/index`,
    username: upstream.user,
    password: upstream.password,
    retrievalCachePeriodSecs: 0,
  });
});
afterAll(async () => {
  await node?.close();
  await upstream?.close();
});

describe('cargo remote repository', () => {
  it('refuses, and does not cache, a crate whose sha256 is not the cksum its upstream index lists', async () => {
    // An upstream whose index file lists a cksum the crate does not have (both stored through the REST API).
    const crate = crateOf('swapped', '1.0.0');
    const put = await fetch(`${upstream.base}/up/${cratePath('swapped', '1.0.0')}`, { method: 'PUT', headers: { authorization: upstream.auth }, body: crate });
    expect(put.status, await put.text()).toBe(201);
    const line = { ...parsePublishMetadata(publishMetadata('swapped', '1.0.0'), crate).line, cksum: '0'.repeat(64) };
    const index = await fetch(`${upstream.base}/up/${storedIndexPath('swapped')}`, { method: 'PUT', headers: { authorization: upstream.auth }, body: `${JSON.stringify(line)}\n` });
    expect(index.status, await index.text()).toBe(201);
    const res = await fetch(`${node.base}/api/cargo/proxy/v1/crates/swapped/1.0.0/download`, { headers: { authorization: node.auth } });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { errors: { detail: string }[] }).errors[0].detail).toMatch(/but its index says/);
    expect((await fetch(`${node.base}/api/storage/proxy/${cratePath('swapped', '1.0.0')}`, { headers: { authorization: node.auth } })).status).toBe(404);
  });
});

describe('cargo publish body limit', () => {
  it('refuses a body declared over the limit before reading it (413, cargo\'s error body)', async () => {
    await createRepo(node, 'limits', { rclass: 'local', packageType: 'cargo' });
    const url = new URL(`${node.base}/api/cargo/limits/api/v1/crates/new`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers: { authorization: node.auth, 'content-length': String(MAX_PUBLISH_BYTES + 1) } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      // A few bytes only: the answer must not wait for the rest.
      req.write(Buffer.alloc(16));
    });
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as { errors: { detail: string }[] }).errors[0].detail).toMatch(/larger than/);
  });
});
