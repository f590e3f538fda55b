import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildRpm, hasRpmbuild } from '../../../test/helpers/rpm-packages.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';

/**
 * The shared format scenarios for RPM: packages built by rpmbuild (one per name, version and
 * variant) deployed by `PUT /{repo}/Packages/{file}` as Artifactory takes them, downloaded at
 * that path, versions read from repodata (repomd.xml → primary.xml.gz, as dnf does), deleted
 * by `DELETE`. A remote proxies the other node's local repository at `/{repo}`.
 */

const dir = mkdtempSync(join(tmpdir(), 'arca-rpm-conformance-'));
const built = new Map<string, Buffer>();

function rpmOf(p: PackageRef): Buffer {
  const key = `${p.name} ${p.version} ${p.variant ?? 0}`;
  let data = built.get(key);
  if (!data) {
    const spec = { name: p.name, version: p.version, files: { [`/usr/share/${p.name}/v.txt`]: `${p.name} ${p.version} variant ${p.variant ?? 0}\n` } };
    data = buildRpm(join(dir, `v${p.variant ?? 0}`), spec).data;
    built.set(key, data);
  }
  return data;
}

const fileOf = (p: PackageRef) => `Packages/${p.name}-${p.version}-1.noarch.rpm`;
const get = (node: ConformanceNode, url: string) => fetch(`${node.base}/${url}`, { headers: { authorization: node.auth } });

if (!hasRpmbuild()) console.warn('[skip] rpm conformance: rpmbuild is not installed (Debian package rpm)');
else
  formatConformance({
    packageType: 'rpm',
    startNode: startListeningNode,
    upstreamUrl: (upstream, key) => `${upstream.base}/${key}`,
    async publish(node, repo, p) {
      const res = await fetch(`${node.base}/${repo}/${fileOf(p)}`, { method: 'PUT', headers: { authorization: node.auth }, body: rpmOf(p) });
      await res.arrayBuffer();
      return res.status;
    },
    async fetch(node, repo, p) {
      const res = await get(node, `${repo}/${fileOf(p)}`);
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    },
    expectedContent: rpmOf,
    async versions(node, repo, name) {
      const repomd = await get(node, `${repo}/repodata/repomd.xml`);
      if (repomd.status === 404) return [];
      const text = await repomd.text();
      if (repomd.status !== 200) throw new Error(`repomd.xml of ${repo}: ${repomd.status} ${text}`);
      const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(text)![1];
      const primary = await get(node, `${repo}/${href}`);
      if (primary.status !== 200) throw new Error(`${href} of ${repo}: ${primary.status}`);
      const xml = gunzipSync(Buffer.from(await primary.arrayBuffer())).toString('utf8');
      const versions: string[] = [];
      for (const m of xml.matchAll(/<package type="rpm">\s*<name>([^<]*)<\/name>[\s\S]*?<version epoch="\d+" ver="([^"]*)"/g)) if (m[1] === name) versions.push(m[2]);
      return versions;
    },
    async remove(node, repo, p) {
      const res = await fetch(`${node.base}/${repo}/${fileOf(p)}`, { method: 'DELETE', headers: { authorization: node.auth } });
      await res.arrayBuffer();
      return res.status;
    },
    redeploy: 'overwrite',
  });
