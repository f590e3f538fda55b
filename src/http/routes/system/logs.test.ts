import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../../../../test/helpers/node-context.js';
import { tailFile } from './logs.js';

describe('tailFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-tail-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the last lines, and says when earlier lines exist', async () => {
    const file = join(dir, 'ten.log');
    writeFileSync(file, Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    expect(await tailFile(file, 3)).toEqual({ size: 71, lines: ['line 8', 'line 9', 'line 10'], truncated: true });
    const all = await tailFile(file, 20);
    expect(all.lines).toHaveLength(10);
    expect(all.lines[0]).toBe('line 1');
    expect(all.truncated).toBe(false);
  });

  it('keeps a last line without a line break, and reads across chunk boundaries', async () => {
    const file = join(dir, 'big.log');
    // 100-byte lines: 5,000 of them span several 64 KiB chunks.
    const lines = Array.from({ length: 5000 }, (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(92)}`);
    writeFileSync(file, lines.join('\n'));
    const tail = await tailFile(file, 1234);
    expect(tail.lines).toEqual(lines.slice(-1234));
    expect(tail.truncated).toBe(true);
    expect((await tailFile(file, 5000)).lines).toEqual(lines);
  });

  it('answers a missing file with no lines', async () => {
    expect(await tailFile(join(dir, 'none.log'), 10)).toEqual({ size: 0, lines: [], truncated: false });
  });
});

describe('GET /artifactory/api/system/logs', () => {
  let node: TestNode;
  const URL = '/artifactory/api/system/logs';

  beforeAll(async () => {
    node = await startTestNode();
    mkdirSync(join(node.home, 'logs'), { recursive: true });
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ level: 30, time: 1700000000000 + i, msg: `message ${i}` }));
    writeFileSync(join(node.home, 'logs', 'arca.log'), lines.join('\n') + '\n');
    writeFileSync(join(node.home, 'logs', 'request.log'), 'GET /x 200\n');
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/carol', payload: { email: 'c@example.com', password: 'Carol-Pw1' } });
    expect(user.statusCode).toBe(201);
  });
  afterAll(async () => node?.close());

  it("tails this node's arca.log (200 lines by default) and request.log", async () => {
    const res = await node.request({ url: URL });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.node).toBe('test-node');
    expect(body.file).toBe('arca.log');
    expect(body.lines).toHaveLength(200);
    expect(JSON.parse(body.lines[199]).msg).toBe('message 299');
    expect(body.truncated).toBe(true);
    const own = await node.request({ url: `${URL}?node=test-node&lines=5&file=request.log` });
    expect(own.json()).toMatchObject({ node: 'test-node', file: 'request.log', lines: ['GET /x 200'], truncated: false });
  });

  it('refuses bad parameters with a JFrog error, and non-admins', async () => {
    for (const q of ['lines=0', 'lines=5001', 'lines=ten', 'file=..%2Fetc%2Fdb.properties', 'file=other.log']) {
      const res = await node.request({ url: `${URL}?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().errors[0].status).toBe(400);
    }
    expect((await node.request({ url: URL, headers: { authorization: basic('carol', 'Carol-Pw1') } })).statusCode).toBe(403);
    expect((await node.request({ url: URL, headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('answers 404 for a node not in the registry, and refuses a forwarded request meant for another node', async () => {
    const unknown = await node.request({ url: `${URL}?node=nowhere` });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].message).toContain("No node 'nowhere'");
    const loop = await node.request({ url: `${URL}?node=art9`, headers: { 'x-arca-logs-forwarded': 'art1' } });
    expect(loop.statusCode).toBe(409);
  });
});
