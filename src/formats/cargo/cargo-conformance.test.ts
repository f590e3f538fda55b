import { crateOf, publishBody, publishMetadata } from '../../../test/helpers/cargo-crates.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';
import { cratePath, indexPath } from './names.js';

/** The shared format scenarios for Cargo: cargo's publish body, its sparse index and `dl` downloads. */

const crates = new Map<string, Buffer>();
function crateFor(p: PackageRef): Buffer {
  const key = `${p.name} ${p.version} ${p.variant ?? 1}`;
  let bytes = crates.get(key);
  if (!bytes) {
    bytes = crateOf(p.name, p.version, { variant: p.variant });
    crates.set(key, bytes);
  }
  return bytes;
}

const api = (node: ConformanceNode, repo: string) => `${node.base}/api/cargo/${repo}`;

formatConformance({
  packageType: 'cargo',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => `${api(upstream, key)}/index`,
  async publish(node, repo, p) {
    const res = await fetch(`${api(node, repo)}/api/v1/crates/new`, {
      method: 'PUT',
      headers: { authorization: node.auth },
      body: publishBody(publishMetadata(p.name, p.version), crateFor(p)),
    });
    await res.arrayBuffer();
    return res.status;
  },
  async fetch(node, repo, p) {
    const res = await fetch(`${api(node, repo)}/v1/crates/${p.name}/${p.version}/download`, { headers: { authorization: node.auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: crateFor,
  async versions(node, repo, name) {
    const res = await fetch(`${api(node, repo)}/index/${indexPath(name)}`, { headers: { authorization: node.auth } });
    if (res.status === 404) {
      await res.arrayBuffer();
      return [];
    }
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { vers: string }).vers);
  },
  async remove(node, repo, p) {
    const res = await fetch(`${node.base}/${repo}/${cratePath(p.name, p.version)}`, { method: 'DELETE', headers: { authorization: node.auth } });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'refuse',
});
