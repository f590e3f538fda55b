import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSystemProvider } from '../../src/binstore/file-system-provider.js';
import type { ConfigFileStatus } from '../../src/cluster/config-files.js';
import { DIALECTS } from '../helpers/databases.js';
import { startCluster, type TestCluster } from '../helpers/cluster-nodes.js';

const PROPS = 'artifactory.system.properties';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const props = (minutes: number) => `artifactory.map.provider.type=db\nartifactory.ui.session.timeout.minutes=${minutes}\n`;
const storeXml = (dir: string) => `<config version="1">
    <chain template="file-system"/>
    <provider id="file-system" type="file-system">
        <fileStoreDir>${dir}</fileStoreDir>
    </provider>
</config>
`;

async function status(cluster: TestCluster, via = 0): Promise<ConfigFileStatus> {
  const r = await cluster.nodes[via].request({ url: '/artifactory/api/system/configFiles' });
  expect(r.statusCode).toBe(200);
  return r.json() as ConfigFileStatus;
}

describe.each(DIALECTS)('configuration files mirrored through the database on %s', (dialect) => {
  let cluster: TestCluster;
  let customStore: string;
  const etc = (i: number, name: string) => join(cluster.nodes[i].home, 'etc', name);

  beforeAll(async () => {
    customStore = mkdtempSync(join(tmpdir(), 'arca-custom-store-'));
    cluster = await startCluster(dialect, 2, {
      prepare: (i, home) => {
        if (i === 0) {
          writeFileSync(join(home, 'etc', PROPS), props(45));
          writeFileSync(join(home, 'etc', 'binarystore.xml'), storeXml(customStore));
        } else {
          // Newer than the first node's copy: timestamps must not matter.
          const file = join(home, 'etc', PROPS);
          writeFileSync(file, props(10));
          const future = new Date(Date.now() + 86_400_000);
          utimesSync(file, future, future);
        }
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    rmSync(customStore, { recursive: true, force: true });
  });

  it("stores the first node's copies and mirrors them to the second, whose own copy is kept as .bak", async () => {
    expect(readFileSync(etc(1, PROPS), 'utf8')).toBe(props(45));
    expect(readFileSync(etc(1, `${PROPS}.bak`), 'utf8')).toBe(props(10));
    expect(readFileSync(etc(1, 'binarystore.xml'), 'utf8')).toBe(storeXml(customStore));
    // What the node runs is the mirrored copy, read after mirroring.
    expect(cluster.nodes[1].ctx.security.sessions?.idleMs).toBe(45 * 60_000);
    expect((cluster.nodes[1].ctx.content.provider as FileSystemProvider).pathOf('ab12').startsWith(customStore)).toBe(true);
    const s = await status(cluster, 1);
    expect(s.files.map((f) => [f.name, f.updatedBy])).toEqual([
      [PROPS, 'node-1'],
      ['binarystore.xml', 'node-1'],
    ].sort());
    expect(s.files.find((f) => f.name === PROPS)?.sha256).toBe(sha(props(45)));
    expect(s.nodes.map((n) => [n.id, n.current])).toEqual([
      ['node-1', true],
      ['node-2', true],
    ]);
    expect(s.outdated).toEqual([]);
  });

  it('serves a binary deployed through one node from the other out of the mirrored store', async () => {
    const [a, b] = cluster.nodes;
    const json = { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ rclass: 'local', packageType: 'generic' }) };
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/repositories/cf-local', ...json })).statusCode).toBe(200);
    expect((await a.request({ method: 'PUT', url: '/artifactory/cf-local/x.txt', payload: 'mirrored store' })).statusCode).toBe(201);
    const sha1 = createHash('sha1').update('mirrored store').digest('hex');
    expect(existsSync(join(customStore, sha1.slice(0, 2), sha1))).toBe(true);
    expect((await b.request({ url: '/artifactory/cf-local/x.txt' })).body).toBe('mirrored store');
  });

  it('takes a change on the source node at its restart and lists the nodes still running the older copy', async () => {
    writeFileSync(etc(0, PROPS), props(50));
    await cluster.restart(0);
    let s = await status(cluster);
    expect(s.files.find((f) => f.name === PROPS)?.sha256).toBe(sha(props(50)));
    expect(s.outdated).toEqual(['node-2']);
    const n2 = s.nodes.find((n) => n.id === 'node-2')!;
    expect(n2.files.find((f) => f.name === PROPS)).toMatchObject({ sha256: sha(props(45)), current: false });
    // Node 2 keeps running its copy until it restarts.
    expect(cluster.nodes[1].ctx.security.sessions?.idleMs).toBe(45 * 60_000);

    await cluster.restart(1);
    s = await status(cluster);
    expect(s.outdated).toEqual([]);
    expect(readFileSync(etc(1, PROPS), 'utf8')).toBe(props(50));
    expect(cluster.nodes[1].ctx.security.sessions?.idleMs).toBe(50 * 60_000);
  });

  it('ignores a local edit on a node that is not the source: the next start restores the copy', async () => {
    writeFileSync(etc(1, PROPS), props(5));
    await cluster.restart(1);
    expect(readFileSync(etc(1, PROPS), 'utf8')).toBe(props(50));
    expect((await status(cluster)).files.find((f) => f.name === PROPS)?.updatedBy).toBe('node-1');
  });

  it("serves the database's copy of a file to an admin, and 404 for other names", async () => {
    const r = await cluster.nodes[1].request({ url: `/artifactory/api/system/configFiles/${PROPS}` });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe(props(50));
    expect(r.headers['x-checksum-sha256']).toBe(sha(props(50)));
    expect((await cluster.nodes[1].request({ url: '/artifactory/api/system/configFiles/db.properties' })).statusCode).toBe(404);
    expect((await cluster.nodes[1].request({ url: '/artifactory/api/system/configFiles', headers: { authorization: '' } })).statusCode).toBe(401);
  });
});

describe.each(DIALECTS.filter((d) => d !== 'sqlite'))('the primary copy on %s', (dialect) => {
  let cluster: TestCluster;
  const etc = (i: number) => join(cluster.nodes[i].home, 'etc', PROPS);

  beforeAll(async () => {
    // node-1 (a member) starts first and seeds the database; node-2 is the primary.
    cluster = await startCluster(dialect, 2, {
      env: { ARCA_SHARED_NODE_HAENABLED: 'true' },
      nodeEnv: (i): Record<string, string> => (i === 1 ? { ARCA_SHARED_NODE_PRIMARY: 'true' } : {}),
      prepare: (i, home) => writeFileSync(join(home, 'etc', PROPS), props(i === 0 ? 20 : 25)),
    });
  });
  afterAll(() => cluster?.close());

  it("wins over the first node's copy; the member takes it at its restart", async () => {
    let s = await status(cluster);
    expect(s.files.find((f) => f.name === PROPS)).toMatchObject({ updatedBy: 'node-2', sha256: sha(props(25)) });
    expect(s.outdated).toEqual(['node-1']);
    expect(readFileSync(etc(1), 'utf8')).toBe(props(25));

    // A member's local edit never goes to the database while a primary exists.
    writeFileSync(etc(0), props(30));
    await cluster.restart(0);
    s = await status(cluster);
    expect(s.outdated).toEqual([]);
    expect(readFileSync(etc(0), 'utf8')).toBe(props(25));
    expect(cluster.nodes[0].ctx.security.sessions?.idleMs).toBe(25 * 60_000);
  });
});
