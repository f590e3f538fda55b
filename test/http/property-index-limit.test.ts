import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

/**
 * A property value PostgreSQL cannot fit in an entry of the (key, value) index (about 2,700
 * bytes that do not compress; the property tests of request names found it as a 500): a 400
 * there that changes nothing; the other dialects index a prefix and store it.
 */
describe.each(DIALECTS)('a property value too large for its index on %s', (dialect) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode(dialect);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/pil-local', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    expect((await node.request({ method: 'PUT', url: '/artifactory/pil-local/a/b.txt;kept=yes', payload: 'b' })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers a clear 400 on PostgreSQL and leaves the properties as they were; elsewhere stores it', async () => {
    const value = Array.from(randomBytes(3000), (b) => String.fromCharCode(97 + (b % 26))).join('');
    for (const url of [`/artifactory/api/storage/pil-local/a/b.txt?properties=big=${value}`, `/artifactory/api/storage/pil-local/?properties=big=${value}&recursive=1`]) {
      const res = await node.request({ method: 'PUT', url });
      if (dialect === 'postgresql') {
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().errors[0].message).toMatch(/too large to be indexed/);
      } else expect(res.statusCode, res.body).toBe(204);
    }
    const props = (await node.request({ method: 'GET', url: '/artifactory/api/storage/pil-local/a/b.txt?properties' })).json().properties;
    expect(props.kept).toEqual(['yes']);
    if (dialect === 'postgresql') expect(props.big).toBeUndefined();
    else expect(props.big).toEqual([value]);
  });
});
