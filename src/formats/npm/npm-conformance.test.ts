import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';
import { escapeName } from './names.js';
import { packPackage, publishBody, type PackedPackage } from './testing/pack.js';

/** The shared format scenarios for npm, through the registry API as the npm client uses it. */

const packed = new Map<string, PackedPackage>();
function packageOf(p: PackageRef): PackedPackage {
  const key = `${p.name} ${p.version} ${p.variant ?? 1}`;
  let pkg = packed.get(key);
  if (!pkg) {
    pkg = packPackage({ name: p.name, version: p.version, description: `variant ${p.variant ?? 1}` });
    packed.set(key, pkg);
  }
  return pkg;
}

const registry = (node: ConformanceNode, repo: string) => `${node.base}/api/npm/${repo}/`;

async function packument(node: ConformanceNode, repo: string, name: string, write = false) {
  const res = await fetch(`${registry(node, repo)}${escapeName(name)}${write ? '?write=true' : ''}`, {
    headers: { authorization: node.auth, accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' },
  });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return undefined;
  }
  return (await res.json()) as { _rev?: string; versions: Record<string, { dist: { tarball: string } }> };
}

formatConformance({
  packageType: 'npm',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => registry(upstream, key),
  async publish(node, repo, p) {
    const res = await fetch(`${registry(node, repo)}${escapeName(p.name)}`, {
      method: 'PUT',
      headers: { authorization: node.auth, 'content-type': 'application/json' },
      body: JSON.stringify(publishBody(packageOf(p), { registry: registry(node, repo) })),
    });
    await res.arrayBuffer();
    return res.status;
  },
  async fetch(node, repo, p) {
    const tarball = (await packument(node, repo, p.name))?.versions[p.version]?.dist.tarball;
    if (!tarball) return { status: 404, body: Buffer.alloc(0) };
    const res = await fetch(tarball, { headers: { authorization: node.auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: (p) => packageOf(p).tarball,
  async versions(node, repo, name) {
    const doc = await packument(node, repo, name);
    return doc ? Object.keys(doc.versions) : [];
  },
  /** As `npm unpublish pkg@ver` ends: the tarball DELETE with the document's revision. */
  async remove(node, repo, p) {
    const doc = await packument(node, repo, p.name, true);
    const res = await fetch(`${registry(node, repo)}${p.name}/-/${p.name}-${p.version}.tgz/-rev/${doc?._rev ?? 'none'}`, { method: 'DELETE', headers: { authorization: node.auth } });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'refuse',
});
