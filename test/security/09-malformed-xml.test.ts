import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

/**
 * Issue 12, item 9: hostile XML in a Maven deploy (a deeply nested POM or maven-metadata.xml,
 * an entity-expansion document) is a 400 that names the limit, and nothing is stored.
 */
const nested = (root: string, depth: number) => `<?xml version="1.0"?>\n<${root}>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}</${root}>\n`;
const laughs = (root: string) =>
  `<?xml version="1.0"?>\n<!DOCTYPE ${root} [\n <!ENTITY lol "lol">\n` +
  Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">\n`).join('') +
  `]>\n<${root}><groupId>&lol9;</groupId></${root}>\n`;

describe('item 9: malformed XML is a 400 naming the limit, with nothing stored', () => {
  let node: NodeProcess;
  const req = (method: string, path: string, body?: string) =>
    fetch(`${node.base}/${path}`, { method, body, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/xml' } });

  beforeAll(async () => {
    node = await startNodeProcess();
    const res = await fetch(`${node.base}/api/repositories/mvn-local`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'maven' }),
    });
    expect(res.status, await res.text()).toBe(200);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  /** Deploys `body` to `path` and checks the refusal, the item and the binary. */
  async function refused(path: string, body: string, limit: RegExp): Promise<void> {
    const res = await req('PUT', `mvn-local/${path}`, body);
    const text = await res.text();
    expect(res.status, text).toBe(400);
    const message = (JSON.parse(text) as { errors: { status: number; message: string }[] }).errors[0].message;
    expect(message).toMatch(limit);
    expect((await req('GET', `mvn-local/${path}`)).status).toBe(404);
    expect((await req('GET', `api/storage/mvn-local/${path}`)).status).toBe(404);
    const sha1 = createHash('sha1').update(body).digest('hex');
    expect(existsSync(join(node.home, 'data', 'filestore', sha1.slice(0, 2), sha1)), 'the binary is not in the filestore').toBe(false);
    // The node still answers: nothing crashed.
    expect((await fetch(`${node.base}/api/system/ping`)).status).toBe(200);
  }

  it('a deeply nested POM', async () => {
    await refused('org/ex/deep/1.0/deep-1.0.pom', nested('project', 50_000), /^Malformed POM: .*nesting depth limit is 100\b/);
  });

  it('a POM just past the depth limit, while one within it is accepted', async () => {
    await refused('org/ex/edge/1.0/edge-1.0.pom', nested('project', 101), /nesting depth limit is 100\b/);
    const ok = `<project><groupId>org.ex</groupId><artifactId>edge</artifactId><version>1.1</version><build>${'<a>'.repeat(90)}${'</a>'.repeat(90)}</build></project>`;
    expect((await req('PUT', 'mvn-local/org/ex/edge/1.1/edge-1.1.pom', ok)).status).toBe(201);
  });

  it('a deep maven-metadata.xml, at a level that is stored and at one that is generated', async () => {
    await refused('org/maven-metadata.xml', nested('metadata', 50_000), /^Malformed maven-metadata\.xml: .*nesting depth limit is 100\b/);
    await refused('org/ex/deep/maven-metadata.xml', nested('metadata', 50_000), /nesting depth limit is 100\b/);
  });

  it('an entity-expansion ("billion laughs") POM and maven-metadata.xml', async () => {
    await refused('org/ex/lol/1.0/lol-1.0.pom', laughs('project'), /^Malformed POM: entity declarations are not allowed \(the limit is 0/);
    await refused('org/maven-metadata.xml', laughs('metadata'), /entity declarations are not allowed/);
  });
});
