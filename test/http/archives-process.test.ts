import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/node-context.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { storedZip } from '../helpers/stored-zip.js';

/**
 * Archives over real HTTP against a real `arca start` process: an explode as `jf rt upload
 * --explode` sends it (the archive's checksum headers, X-Explode-Archive), and a folder
 * download of 128 MiB streamed into the real `unzip` while the server's memory is watched: the
 * archive is written as it is read, never held whole.
 */
const MiB = 1024 * 1024;
const FILES = 4;
const FILE_SIZE = 32 * MiB;

/** Resident memory of a process and its descendants, in bytes (Linux /proc). */
function treeRss(root: number): number {
  const parents = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parents.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) if (tree.has(ppid) && !tree.has(pid)) grew = tree.add(pid) !== undefined;
  }
  let total = 0;
  for (const pid of tree) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

describe.skipIf(process.platform !== 'linux')('archives (real process)', () => {
  let node: NodeProcess;
  const auth = { authorization: ADMIN_AUTH };

  beforeAll(async () => {
    node = await startNodeProcess({ workers: 1 });
    const res = await fetch(`${node.base}/api/repositories/arch`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ rclass: 'local', packageType: 'generic' }) });
    expect(res.status).toBe(200);
  }, 60_000);
  afterAll(async () => node?.cleanup());

  it('explodes an archive sent as the JFrog CLI sends it', async () => {
    const zip = storedZip({ 'bin/tool.sh': '#!/bin/sh\necho hi\n', 'README': 'read me' });
    const sum = (alg: string) => createHash(alg).update(zip).digest('hex');
    const res = await fetch(`${node.base}/arch/tools/1.0/tools.zip;release=1.0`, {
      method: 'PUT',
      headers: { ...auth, 'x-explode-archive': 'true', 'x-checksum-sha1': sum('sha1'), 'x-checksum': sum('sha256'), 'x-checksum-md5': sum('md5') },
      body: zip,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as { checksums: { sha256: string } }).checksums.sha256).toBe(sum('sha256'));
    expect(await (await fetch(`${node.base}/arch/tools/1.0/README`, { headers: auth })).text()).toBe('read me');
    expect((await fetch(`${node.base}/arch/tools/1.0/tools.zip`, { headers: auth })).status).toBe(404);
  });

  it('streams a 128 MiB folder as a zip into the real unzip without holding it', async () => {
    const sums: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const data = randomBytes(FILE_SIZE);
      sums.push(createHash('sha1').update(data).digest('hex'));
      const res = await fetch(`${node.base}/arch/big/part-${i}.bin`, { method: 'PUT', headers: auth, body: data });
      expect(res.status).toBe(201);
    }
    await new Promise((r) => setTimeout(r, 500));
    const before = treeRss(node.child.pid!);
    let peak = before;
    const watch = setInterval(() => (peak = Math.max(peak, treeRss(node.child.pid!))), 50);
    try {
      const res = await fetch(`${node.base}/api/archive/download/arch/big?archiveType=zip`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('filename="big.zip"');
      // A slow reader: the server must wait for it rather than buffer the archive.
      const unzip = spawn('sh', ['-c', 'cat > "$0" && unzip -p "$0" part-2.bin | sha1sum', `/tmp/arca-archives-${process.pid}.zip`], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      unzip.stdout.on('data', (d) => (out += d));
      const done = new Promise<number | null>((r) => unzip.on('exit', r));
      let received = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        received += chunk.length;
        if (!unzip.stdin.write(chunk)) await new Promise((r) => unzip.stdin.once('drain', r));
        if (received < 8 * MiB) await new Promise((r) => setTimeout(r, 20));
      }
      unzip.stdin.end();
      expect(await done).toBe(0);
      expect(out.split(' ')[0]).toBe(sums[2]);
      expect(received).toBeGreaterThan(FILES * FILE_SIZE);
    } finally {
      clearInterval(watch);
      spawn('rm', ['-f', `/tmp/arca-archives-${process.pid}.zip`]);
    }
    console.log(`folder download: server RSS ${Math.round(before / MiB)} MiB before, peak ${Math.round(peak / MiB)} MiB`);
    // Well under the archive's size (128 MiB): buffers and caches, not the archive.
    expect(peak - before, `RSS grew by ${Math.round((peak - before) / MiB)} MiB`).toBeLessThan(64 * MiB);
  }, 120_000);
});
