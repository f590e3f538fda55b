import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

/** Issue 12, item 16: logs/request.log follows a running node within a second. */
describe('item 16: request.log is flushed while the node runs', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess({ workers: 2 });
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  const logged = () => {
    try {
      return readFileSync(join(node.home, 'logs', 'request.log'), 'utf8');
    } catch {
      return '';
    }
  };

  it('a request is in the file within 1.5 s, before any shutdown', async () => {
    for (let i = 0; i < 3; i++) {
      const marker = `/artifactory/api/storage/no-such-repo-${i}-${Date.now()}`;
      const sent = Date.now();
      expect((await fetch(`${node.url}${marker}`, { headers: { authorization: ADMIN_AUTH } })).status).toBeGreaterThanOrEqual(400);
      let line: string | undefined;
      while (Date.now() - sent < 1500 && !line) {
        line = logged().split('\n').find((l) => l.includes(marker));
        if (!line) await new Promise((r) => setTimeout(r, 50));
      }
      expect(line, `request ${i} in logs/request.log within 1.5 s`).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ method: 'GET', url: marker, user: 'admin' });
      expect(node.child.exitCode).toBeNull();
    }
  });
});
