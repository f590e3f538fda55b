import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeb, HAVE_APT } from '../../../test/helpers/debian-packages.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';

/**
 * The shared format scenarios for Debian: packages built by dpkg-deb, deployed as apt users
 * deploy them (`PUT /api/deb/{repo}/pool/…;deb.distribution=…`), downloaded at their pool path,
 * versions read from the distribution's `Packages` index, deleted by path.
 */

const debUrl = (node: ConformanceNode, repo: string) => `${node.base}/api/deb/${repo}`;
const dir = mkdtempSync(join(tmpdir(), 'arca-debian-conf-'));
const built = new Map<string, Buffer>();

function debOf(p: PackageRef): Buffer {
  const key = `${p.name}@${p.version}#${p.variant ?? 1}`;
  let data = built.get(key);
  if (!data) {
    data = buildDeb(mkdtempSync(join(dir, 'b-')), { name: p.name, version: p.version, arch: 'amd64', payload: `variant ${p.variant ?? 1}\n` }).data;
    built.set(key, data);
  }
  return data;
}

const poolPath = (p: PackageRef) => `pool/main/${p.name[0]}/${p.name}/${p.name}_${p.version}_amd64.deb`;

if (!HAVE_APT) console.warn('[skip] debian conformance: dpkg-deb is not installed');

if (HAVE_APT) {
  formatConformance({
    packageType: 'debian',
    startNode: startListeningNode,
    upstreamUrl: (upstream, key) => debUrl(upstream, key),
    async publish(node, repo, p) {
      const res = await fetch(`${debUrl(node, repo)}/${poolPath(p)};deb.distribution=stable;deb.component=main`, { method: 'PUT', headers: { authorization: node.auth }, body: debOf(p) });
      await res.arrayBuffer();
      return res.status;
    },
    async fetch(node, repo, p) {
      const res = await fetch(`${debUrl(node, repo)}/${poolPath(p)}`, { headers: { authorization: node.auth } });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    },
    expectedContent: debOf,
    async versions(node, repo, name) {
      const res = await fetch(`${debUrl(node, repo)}/dists/stable/main/binary-amd64/Packages`, { headers: { authorization: node.auth } });
      if (res.status === 404) return [];
      if (res.status !== 200) throw new Error(`Packages of ${repo}: ${res.status} ${await res.text()}`);
      const text = await res.text();
      return text
        .split('\n\n')
        .filter((s) => new RegExp(`^Package: ${name}$`, 'm').test(s))
        .map((s) => /^Version: (.*)$/m.exec(s)![1]);
    },
    async remove(node, repo, p) {
      const res = await fetch(`${debUrl(node, repo)}/${poolPath(p)}`, { method: 'DELETE', headers: { authorization: node.auth } });
      await res.arrayBuffer();
      return res.status;
    },
    redeploy: 'overwrite',
  });
}
