import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { multipartBody, twineFields, wheelFilename, writeWheel } from '../../../test/helpers/pypi-fixtures.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';
import { normalizeProjectName } from './names.js';

/** The shared format scenarios for PyPI: twine's upload form, pip's JSON pages and downloads. */

const dir = mkdtempSync(join(tmpdir(), 'arca-pypi-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const wheels = new Map<string, Buffer>();
function wheelOf(p: PackageRef): Buffer {
  const key = `${p.name} ${p.version} ${p.variant ?? 1}`;
  let bytes = wheels.get(key);
  if (!bytes) {
    const out = join(dir, `${wheels.size}.whl`);
    const module = p.name.replace(/-/g, '_');
    writeWheel(out, { name: p.name, version: p.version, files: { [`${module}/__init__.py`]: `VERSION = '${p.version}'\nVARIANT = ${p.variant ?? 1}\n` } });
    bytes = readFileSync(out);
    wheels.set(key, bytes);
  }
  return bytes;
}

async function page(node: ConformanceNode, repo: string, name: string) {
  const url = `${node.base}/api/pypi/${repo}/simple/${normalizeProjectName(name)}/`;
  const res = await fetch(url, { headers: { authorization: node.auth, accept: 'application/vnd.pypi.simple.v1+json' } });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { status: res.status, url, files: [] as { filename: string; url: string }[], versions: [] as string[] };
  }
  const doc = (await res.json()) as { files: { filename: string; url: string }[]; versions: string[] };
  return { status: 200, url: res.url, files: doc.files, versions: doc.versions };
}

formatConformance({
  packageType: 'pypi',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => `${upstream.base}/api/pypi/${key}`,
  async publish(node, repo, p) {
    const content = wheelOf(p);
    const { body, contentType } = multipartBody({ fields: twineFields(p.name, p.version, content, 'bdist_wheel'), filename: wheelFilename(p.name, p.version), content });
    const res = await fetch(`${node.base}/api/pypi/${repo}`, { method: 'POST', headers: { authorization: node.auth, 'content-type': contentType }, body });
    await res.arrayBuffer();
    return res.status;
  },
  async fetch(node, repo, p) {
    const listing = await page(node, repo, p.name);
    const file = listing.files.find((f) => f.filename === wheelFilename(p.name, p.version));
    if (!file) return { status: 404, body: Buffer.alloc(0) };
    const res = await fetch(new URL(file.url, listing.url), { headers: { authorization: node.auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: wheelOf,
  async versions(node, repo, name) {
    return (await page(node, repo, name)).versions;
  },
  async remove(node, repo, p) {
    const res = await fetch(`${node.base}/${repo}/${normalizeProjectName(p.name)}/${p.version}`, { method: 'DELETE', headers: { authorization: node.auth } });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'overwrite',
});
