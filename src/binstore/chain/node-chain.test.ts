import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../../../test/helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../../../test/helpers/node-process.js';

/** A real `arca start` process building its store from etc/binarystore.xml. */
function homeWith(xml: string): string {
  const home = mkdtempSync(join(tmpdir(), 'arca-chain-node-'));
  mkdirSync(join(home, 'etc'), { recursive: true });
  writeFileSync(join(home, 'etc', 'binarystore.xml'), xml);
  return home;
}

describe('a node on the redundant-shards template (real process)', () => {
  let node: NodeProcess;
  let home: string;

  beforeAll(async () => {
    home = homeWith(`<config version="4">
    <chain template="redundant-shards"/>
    <provider id="cache-fs" type="cache-fs"><maxCacheSize>100000000</maxCacheSize><colour>blue</colour></provider>
    <provider id="sharding" type="sharding"><lenientLimit>0</lenientLimit></provider>
</config>
`);
    node = await startNodeProcess({ home });
    const res = await fetch(`${node.base}/api/repositories/chain-local`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await node?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('keeps two copies, one per shard directory, and serves the binary', async () => {
    // lenientLimit 0 (set above by id): the upload returns once both copies exist.
    const data = randomBytes(150_000);
    const sha1 = createHash('sha1').update(data).digest('hex');
    const put = await fetch(`${node.base}/chain-local/a/b.bin`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: data });
    expect(put.status).toBe(201);
    for (const shard of ['shard-state-aware-1', 'shard-state-aware-2']) {
      expect(existsSync(join(home, 'data', shard, sha1.slice(0, 2), sha1)), shard).toBe(true);
    }
    expect(existsSync(join(home, 'data', 'filestore', sha1.slice(0, 2), sha1))).toBe(false);
    const get = await fetch(`${node.base}/chain-local/a/b.bin`, { headers: { authorization: ADMIN_AUTH } });
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
  });

  it('reports per-provider metrics of every element of the chain at /api/v1/metrics', async () => {
    const res = await fetch(`${node.base}/api/v1/metrics`, { headers: { authorization: ADMIN_AUTH } });
    expect(res.status).toBe(200);
    const text = await res.text();
    // The write of the test above: one commit through the sharding provider, a copy on each shard.
    for (const [id, type] of [['sharding', 'sharding'], ['shard-state-aware-1', 'state-aware'], ['shard-state-aware-2', 'state-aware']]) {
      expect(text, id).toMatch(new RegExp(`arca_binstore_operations_total\\{op="commit",provider="${id}",type="${type}"\\} [1-9]`));
    }
    expect(text).toMatch(/arca_binstore_written_bytes_total\{provider="shard-state-aware-1",type="state-aware"\} [1-9]/);
    expect(text).toMatch(/arca_binstore_operation_duration_seconds_count\{op="stage",provider="sharding",type="sharding"\} [1-9]/);
  });

  it('logged the unknown parameter at start without failing', () => {
    // The log is JSON: the element's quotes are escaped.
    expect(node.output()).toContain(`binarystore.xml: <provider id=\\"cache-fs\\" type=\\"cache-fs\\">: unknown parameter 'colour' for type cache-fs; ignored`);
  });
});

describe('a node with an invalid binarystore.xml (real process)', () => {
  it('does not start, and names the file and the element', async () => {
    const home = homeWith('<config version="1"><chain template="s3-storage-v3-direct"/><provider id="s3-storage-v3"><region>eu-west-1</region></provider></config>');
    try {
      const err = await startNodeProcess({ home }).then(
        async (n) => {
          await n.cleanup();
          return undefined;
        },
        (e: unknown) => e as Error,
      );
      expect(err?.message).toContain(`${join(home, 'etc', 'binarystore.xml')}: <provider id="s3-storage-v3" type="s3-storage-v3">: bucketName is required`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
