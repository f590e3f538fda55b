import { parse } from 'yaml';
import { chartTgz } from '../../../test/helpers/helm-charts.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';

/**
 * The shared format scenarios for Helm: ChartMuseum uploads (`POST /api/charts`, which
 * refuses an existing version), downloads at the chart's URL, versions from index.yaml,
 * deletes through ChartMuseum's `DELETE /api/charts/{name}/{version}`.
 */

const helmUrl = (node: ConformanceNode, repo: string) => `${node.base}/api/helm/${repo}`;
const chartOf = (p: PackageRef) => chartTgz({ name: p.name, version: p.version, variant: p.variant });

formatConformance({
  packageType: 'helm',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => helmUrl(upstream, key),
  async publish(node, repo, p) {
    const res = await fetch(`${helmUrl(node, repo)}/api/charts`, { method: 'POST', headers: { authorization: node.auth, 'content-type': 'application/octet-stream' }, body: chartOf(p) });
    await res.arrayBuffer();
    return res.status;
  },
  async fetch(node, repo, p) {
    const res = await fetch(`${helmUrl(node, repo)}/${p.name}-${p.version}.tgz`, { headers: { authorization: node.auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: chartOf,
  async versions(node, repo, name) {
    const res = await fetch(`${helmUrl(node, repo)}/index.yaml`, { headers: { authorization: node.auth } });
    if (res.status !== 200) throw new Error(`index.yaml of ${repo}: ${res.status} ${await res.text()}`);
    const index = parse(await res.text()) as { entries: Record<string, Array<{ version: string }>> };
    return (index.entries[name] ?? []).map((e) => e.version);
  },
  async remove(node, repo, p) {
    const res = await fetch(`${helmUrl(node, repo)}/api/charts/${p.name}/${p.version}`, { method: 'DELETE', headers: { authorization: node.auth } });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'refuse',
});
