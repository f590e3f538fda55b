import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../../node/testing/test-node.js';
import { buildGem } from '../../../test/helpers/gems-fixtures.js';
import { parseVersions } from './index-files.js';

/**
 * The RubyGems API details bundler and gem rely on, beyond the shared scenarios: the compact
 * index's validators (ETag = quoted MD5, 304, ranges), `versions` growing by appended lines,
 * the API key in a bare Authorization header, platform gems, refusals as plain text with
 * nothing stored, and the index made again after a folder delete.
 */

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('RubyGems protocol', () => {
  let node: TestNode;
  const base = '/artifactory/api/gems/gp-local';
  const push = (gem: Buffer, authorization?: string) =>
    node.request({ method: 'POST', url: `${base}/api/v1/gems`, payload: gem, headers: { 'content-type': 'application/octet-stream', ...(authorization ? { authorization } : {}) } });
  const get = (path: string, headers: Record<string, string> = {}) => node.request({ method: 'GET', url: `${base}/${path}`, headers });

  beforeAll(async () => {
    node = await startTestNode();
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/gp-local', payload: { rclass: 'local', packageType: 'gems' } });
    expect(res.statusCode, res.body).toBe(200);
  });
  afterAll(() => node?.close());

  it('pushes with the API key sent as the whole Authorization header, as gem does', async () => {
    const key = (await get('api/v1/api_key')).body.trim();
    expect(key).toMatch(/^AKC/);
    expect(JSON.parse((await get('api/v1/api_key.json')).body)).toEqual({ rubygems_api_key: key });
    const res = await push(buildGem({ name: 'proto', version: '1.0.0', dependencies: { rack: '>= 2' } }), key);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toBe('Successfully registered gem: proto (1.0.0)');
    expect((await push(buildGem({ name: 'proto', version: '1.0.1' }), 'AKCnot-a-key')).statusCode).toBe(401);
  });

  it('serves the compact index with the validators bundler checks, versions growing by appends', async () => {
    const first = await get('versions');
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).toBe(`"${md5(first.rawPayload)}"`);
    expect(first.headers['repr-digest']).toBe(`sha-256=:${createHash('sha256').update(first.rawPayload).digest('base64')}:`);
    expect((await get('versions', { 'if-none-match': first.headers.etag as string })).statusCode).toBe(304);
    const info = await get('info/proto');
    expect(info.body).toMatch(/^---\n1\.0\.0 rack:>= 2\|checksum:[0-9a-f]{64},ruby:>= 2\.0\n$/);
    expect(first.body).toContain(`proto 1.0.0 ${md5(info.rawPayload)}\n`);

    expect((await push(buildGem({ name: 'proto', version: '1.1.0', platform: 'java' }))).statusCode).toBe(200);
    const second = await get('versions');
    expect(second.rawPayload.subarray(0, first.rawPayload.length).equals(first.rawPayload)).toBe(true);
    const partial = await get('versions', { range: `bytes=${first.rawPayload.length - 1}-`, 'if-none-match': first.headers.etag as string });
    expect(partial.statusCode).toBe(206);
    expect(Buffer.concat([first.rawPayload.subarray(0, -1), partial.rawPayload]).equals(second.rawPayload)).toBe(true);
    expect(parseVersions(second.body).gems.get('proto')?.keys).toEqual(['1.0.0', '1.1.0-java']);
    expect((await get('names')).body).toBe('---\nproto\n');
    expect((await get('info/nothing-here')).statusCode).toBe(404);
  });

  it('serves the legacy specs and quick specs', async () => {
    const specs = gunzipSync((await get('specs.4.8.gz')).rawPayload);
    expect(specs.subarray(0, 2)).toEqual(Buffer.from([4, 8]));
    expect(specs.toString('latin1')).toContain('java');
    expect((await get('quick/Marshal.4.8/proto-1.1.0-java.gemspec.rz')).statusCode).toBe(200);
    expect((await get('gems/proto-1.1.0-java.gem')).statusCode).toBe(200);
    const root = await node.request({ method: 'HEAD', url: `${base}/` });
    expect(root.statusCode).toBe(200);
  });

  it('refuses bad pushes and deploys as plain text, storing nothing', async () => {
    const bad = await push(buildGem({ name: 'evil', version: '1.0.0', files: { '../x.rb': 'x' } }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^text\/plain/);
    expect(bad.body).toMatch(/unsafe path '\.\.\/x\.rb'/);
    const renamed = await node.request({ method: 'PUT', url: '/artifactory/gp-local/gems/other-1.0.0.gem', payload: buildGem({ name: 'evil', version: '1.0.0' }) });
    expect(renamed.statusCode).toBe(400);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/gp-local/gems/evil-1.0.0.gem' })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/gp-local/gems/other-1.0.0.gem' })).statusCode).toBe(404);
    expect((await push(buildGem({ name: 'proto', version: '1.0.0' }))).statusCode).toBe(409);
    const index = await node.request({ method: 'PUT', url: '/artifactory/gp-local/versions', payload: 'x' });
    expect(index.statusCode).toBe(400);
  });

  it('yanks, and makes the index again after a folder of gems is deleted', async () => {
    const yank = await node.request({ method: 'DELETE', url: `${base}/api/v1/gems/yank`, payload: 'gem_name=proto&version=1.1.0&platform=java', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(yank.statusCode, yank.body).toBe(200);
    expect((await get('versions')).body).toMatch(/^proto -1\.1\.0-java [0-9a-f]{32}$/m);
    expect((await get('info/proto')).body).not.toContain('1.1.0');
    expect((await get('quick/Marshal.4.8/proto-1.1.0-java.gemspec.rz')).statusCode).toBe(404);
    const missing = await node.request({ method: 'DELETE', url: `${base}/api/v1/gems/yank`, payload: 'gem_name=proto&version=7.0.0', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toBe('The version 7.0.0 does not exist.');

    expect((await push(buildGem({ name: 'other', version: '2.0.0' }))).statusCode).toBe(200);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/gp-local/gems' })).statusCode).toBe(204);
    const versions = await get('versions');
    expect([...parseVersions(versions.body).gems.keys()]).toEqual([]);
    expect((await get('names')).body).toBe('---\n');
    expect((await get('info/other')).statusCode).toBe(404);
  });
});
