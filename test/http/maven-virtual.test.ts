import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../src/formats/maven/maven-metadata.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

describe('maven virtual repositories', () => {
  let node: TestNode;
  const put = (path: string, body: string) => node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: body });
  const get = (path: string) => node.request({ method: 'GET', url: `/artifactory/${path}` });

  beforeAll(async () => {
    node = await startTestNode();
    for (const key of ['mv-a', 'mv-b']) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'maven' } })).statusCode).toBe(200);
    }
    const v = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/mv-virtual', payload: { rclass: 'virtual', packageType: 'maven', repositories: ['mv-a', 'mv-b'], defaultDeploymentRepo: 'mv-a' } });
    expect(v.statusCode).toBe(200);
    await put('mv-a/org/m/lib/1.0/lib-1.0.jar', 'a 1.0');
    await put('mv-a/org/m/lib/3.0-SNAPSHOT/lib-3.0-20240101.000000-1.jar', 'a snap 1');
    await put('mv-b/org/m/lib/2.0/lib-2.0.jar', 'b 2.0');
    await put('mv-b/org/m/lib/3.0-SNAPSHOT/lib-3.0-20240202.000000-5.jar', 'b snap 5');
    await put('mv-b/org/m/only-b/1.0/only-b-1.0.jar', 'only b');
  });
  afterAll(async () => {
    await node?.close();
  });

  it('merges artifact metadata across members; its checksum files match the merged bytes', async () => {
    const res = await get('mv-virtual/org/m/lib/maven-metadata.xml');
    expect(res.statusCode).toBe(200);
    const m = parseMetadata(res.body);
    expect(m.versioning).toMatchObject({ versions: ['1.0', '2.0', '3.0-SNAPSHOT'], latest: '3.0-SNAPSHOT', release: '2.0' });
    expect((await get('mv-virtual/org/m/lib/maven-metadata.xml.sha1')).body).toBe(createHash('sha1').update(res.body).digest('hex'));
    expect(res.headers['x-checksum-sha1']).toBe(createHash('sha1').update(res.body).digest('hex'));
  });

  it('merges SNAPSHOT metadata: the newest build of any member wins', async () => {
    const m = parseMetadata((await get('mv-virtual/org/m/lib/3.0-SNAPSHOT/maven-metadata.xml')).body);
    expect(m.versioning!.snapshot).toMatchObject({ timestamp: '20240202.000000', buildNumber: 5 });
    expect(m.versioning!.snapshotVersions).toEqual([expect.objectContaining({ extension: 'jar', value: '3.0-20240202.000000-5' })]);
    expect((await get('mv-virtual/org/m/lib/3.0-SNAPSHOT/lib-3.0-20240202.000000-5.jar')).body).toBe('b snap 5');
  });

  it('serves a single member copy unchanged, and checksums of member files', async () => {
    const direct = await get('mv-b/org/m/only-b/maven-metadata.xml');
    expect((await get('mv-virtual/org/m/only-b/maven-metadata.xml')).body).toBe(direct.body);
    expect((await get('mv-virtual/org/m/only-b/1.0/only-b-1.0.jar.sha256')).body).toBe(createHash('sha256').update('only b').digest('hex'));
  });

  it('a deploy through the virtual repository lands in defaultDeploymentRepo and shows in the merged metadata', async () => {
    expect((await put('mv-virtual/org/m/lib/4.0/lib-4.0.jar', 'a 4.0')).statusCode).toBe(201);
    expect((await get('mv-a/org/m/lib/4.0/lib-4.0.jar')).body).toBe('a 4.0');
    const m = parseMetadata((await get('mv-virtual/org/m/lib/maven-metadata.xml')).body);
    expect(m.versioning).toMatchObject({ versions: ['1.0', '2.0', '3.0-SNAPSHOT', '4.0'], release: '4.0' });
  });
});
