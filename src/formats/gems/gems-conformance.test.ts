import { buildGem, gemFileName } from '../../../test/helpers/gems-fixtures.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';
import { bodyLines } from './index-files.js';

/** The shared format scenarios for RubyGems: gem push, the compact index bundler reads, gem downloads and yank. */

const gems = new Map<string, Buffer>();
function gemOf(p: PackageRef): Buffer {
  const key = `${p.name} ${p.version} ${p.variant ?? 1}`;
  let bytes = gems.get(key);
  if (!bytes) {
    bytes = buildGem({ name: p.name, version: p.version, summary: `variant ${p.variant ?? 1}` });
    gems.set(key, bytes);
  }
  return bytes;
}

const api = (node: ConformanceNode, repo: string) => `${node.base}/api/gems/${repo}`;

formatConformance({
  packageType: 'gems',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => api(upstream, key),
  async publish(node, repo, p) {
    const res = await fetch(`${api(node, repo)}/api/v1/gems`, { method: 'POST', headers: { authorization: node.auth, 'content-type': 'application/octet-stream' }, body: gemOf(p) });
    await res.arrayBuffer();
    return res.status;
  },
  async fetch(node, repo, p) {
    const res = await fetch(`${api(node, repo)}/gems/${gemFileName(p.name, p.version)}`, { headers: { authorization: node.auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: gemOf,
  async versions(node, repo, name) {
    const res = await fetch(`${api(node, repo)}/info/${name}`, { headers: { authorization: node.auth } });
    if (res.status === 404) {
      await res.arrayBuffer();
      return [];
    }
    if (res.status !== 200) throw new Error(`info/${name}: ${res.status} ${await res.text()}`);
    return bodyLines(await res.text()).map((l) => l.split(' ', 1)[0]);
  },
  async remove(node, repo, p) {
    const res = await fetch(`${api(node, repo)}/api/v1/gems/yank`, {
      method: 'DELETE',
      headers: { authorization: node.auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ gem_name: p.name, version: p.version, platform: 'ruby' }).toString(),
    });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'refuse',
});
