import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { ARCA_BIN, startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const run = promisify(execFile);

async function verify(node: NodeProcess, ...extra: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [ARCA_BIN, 'binarystore', 'verify', '--url', node.url, '--password', ADMIN_PASSWORD, ...extra]);
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe('arca binarystore verify against a running node', () => {
  let node: NodeProcess;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    node = await startNodeProcess();
    const repo = await fetch(`${node.base}/api/repositories/scrub-local`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
    });
    expect(repo.status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const data = randomBytes(1000 + i * 50_000);
      const res = await fetch(`${node.base}/scrub-local/f${i}.bin`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: data });
      expect(res.status).toBe(201);
      files.set(createHash('sha1').update(data).digest('hex'), data);
    }
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('reports every binary intact with its counts and bytes (exit 0)', async () => {
    const { code, stdout } = await verify(node);
    expect(stdout).toContain('binaries in the database: 5');
    expect(stdout).toMatch(/copies hashed: +5 \(/);
    expect(stdout).toContain('OK: every binary is intact');
    expect(code).toBe(0);
  });

  it('names a corrupt and a missing binary and exits 1', async () => {
    const [corrupt, missing] = [...files.keys()].sort();
    writeFileSync(join(node.home, 'data', 'filestore', corrupt.slice(0, 2), corrupt), randomBytes(files.get(corrupt)!.length));
    unlinkSync(join(node.home, 'data', 'filestore', missing.slice(0, 2), missing));
    const { code, stdout } = await verify(node, '--json');
    const report = JSON.parse(stdout);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.counts).toMatchObject({ binaries: 5, checked: 4, corrupt: 1, missing: 1, unrecoverable: 2 });
    expect([...report.result.problems].sort()).toEqual([corrupt, missing]);
    expect(code).toBe(1);
  });

  it('fails clearly with a wrong password (exit 2)', async () => {
    try {
      await run(process.execPath, [ARCA_BIN, 'binarystore', 'verify', '--url', node.url, '--password', 'wrong']);
      expect.unreachable('verify succeeded with a wrong password');
    } catch (err) {
      const e = err as { code: number; stdout: string };
      expect(e.code).toBe(2);
      expect(e.stdout).toContain('answered 401');
    }
  });
});
