import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';

const fileOf = (p: PackageRef) => `${p.name}/${p.version}/${p.name}-${p.version}.bin`;
const contentOf = (p: PackageRef) => Buffer.from(`${p.name} ${p.version} variant ${p.variant ?? 1}\n`);

async function put(node: ConformanceNode, repo: string, p: PackageRef): Promise<number> {
  const res = await fetch(`${node.base}/${repo}/${fileOf(p)}`, { method: 'PUT', headers: { authorization: node.auth }, body: contentOf(p) });
  await res.arrayBuffer();
  return res.status;
}

formatConformance({
  packageType: 'generic',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => `${upstream.base}/${key}`,
  publish: put,
  async fetch(node, repo, p) {
    const res = await fetch(`${node.base}/${repo}/${fileOf(p)}`, { headers: { authorization: node.auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: contentOf,
  async remove(node, repo, p) {
    const res = await fetch(`${node.base}/${repo}/${p.name}/${p.version}`, { method: 'DELETE', headers: { authorization: node.auth } });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'overwrite',
});
