import { parseMetadata } from './maven-metadata.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';

const GROUP = 'org/conformance';
const jarOf = (p: PackageRef) => `${GROUP}/${p.name}/${p.version}/${p.name}-${p.version}.jar`;
const pomOf = (p: PackageRef) => `${GROUP}/${p.name}/${p.version}/${p.name}-${p.version}.pom`;
const contentOf = (p: PackageRef) => Buffer.from(`PK fake jar of ${p.name} ${p.version} (${p.variant ?? 1})`);
const pom = (p: PackageRef) =>
  `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>org.conformance</groupId><artifactId>${p.name}</artifactId><version>${p.version}</version></project>`;

async function call(node: ConformanceNode, method: string, path: string, body?: Buffer | string): Promise<Response> {
  return fetch(`${node.base}/${path}`, { method, headers: { authorization: node.auth }, body });
}

/** Deploys as Maven does: the jar, then the POM, each followed by its .sha1. */
async function publish(node: ConformanceNode, repo: string, p: PackageRef): Promise<number> {
  for (const [path, body] of [[jarOf(p), contentOf(p)], [pomOf(p), Buffer.from(pom(p))]] as const) {
    const res = await call(node, 'PUT', `${repo}/${path}`, body);
    await res.arrayBuffer();
    if (res.status >= 300) return res.status;
  }
  return 201;
}

formatConformance({
  packageType: 'maven',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => `${upstream.base}/${key}`,
  publish,
  async fetch(node, repo, p) {
    const res = await call(node, 'GET', `${repo}/${jarOf(p)}`);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
  expectedContent: contentOf,
  async versions(node, repo, name) {
    const res = await call(node, 'GET', `${repo}/${GROUP}/${name}/maven-metadata.xml`);
    if (res.status === 404) return [];
    return parseMetadata(Buffer.from(await res.arrayBuffer())).versioning?.versions ?? [];
  },
  async remove(node, repo, p) {
    const res = await call(node, 'DELETE', `${repo}/${GROUP}/${p.name}/${p.version}`);
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'overwrite',
});
