import { createHash } from 'node:crypto';
import { startListeningNode } from '../testing/conformance-node.js';
import { formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';
import { OCI_MANIFEST } from './media-types.js';

/**
 * The shared format scenarios for the OCI registry, through the registry API as docker,
 * podman and skopeo use it: a package is an image (`name`), a version one of its tags. A
 * publish pushes the config and one layer (POST then PUT of each blob) and the manifest
 * under the tag; a fetch resolves the tag to its manifest and downloads the layer; the
 * version metadata is the tags list; a delete removes the tag. Pushing a tag again moves it
 * to the new manifest (the pusher may delete there), so a redeploy overwrites. A remote
 * docker repository proxies the other node's repository-scoped API
 * (`/artifactory/api/docker/{repo}`), authenticating through its token service.
 */

const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const layerOf = (p: PackageRef) => Buffer.from(`layer of ${p.name}:${p.version}, variant ${p.variant ?? 1}\n`);
const configOf = (p: PackageRef) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { version: p.version, variant: String(p.variant ?? 1) } } }));

/** The registry API of a repository: `…/artifactory/api/docker/{repo}/v2/{image}`. */
const imageUrl = (node: ConformanceNode, repo: string, image: string) => `${node.base}/api/docker/${repo}/v2/${image}`;

/** POST then PUT of one blob (the two-step monolithic push); the status of the first refused step, or of the PUT. */
async function pushBlob(node: ConformanceNode, repo: string, image: string, data: Buffer): Promise<number> {
  const start = await fetch(`${imageUrl(node, repo, image)}/blobs/uploads/`, { method: 'POST', headers: { authorization: node.auth } });
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) return start.status;
  const url = new URL(location, node.base);
  url.searchParams.set('digest', digestOf(data));
  const put = await fetch(url, { method: 'PUT', headers: { authorization: node.auth, 'content-type': 'application/octet-stream' }, body: data });
  await put.arrayBuffer();
  return put.status;
}

async function publish(node: ConformanceNode, repo: string, p: PackageRef): Promise<number> {
  const config = configOf(p);
  const layer = layerOf(p);
  for (const blob of [config, layer]) {
    const status = await pushBlob(node, repo, p.name, blob);
    if (status !== 201) return status;
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
  });
  const res = await fetch(`${imageUrl(node, repo, p.name)}/manifests/${p.version}`, {
    method: 'PUT',
    headers: { authorization: node.auth, 'content-type': OCI_MANIFEST },
    body: manifest,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Pulls the tag: its manifest, then the manifest's one layer. */
async function pull(node: ConformanceNode, repo: string, p: PackageRef): Promise<{ status: number; body: Buffer }> {
  const m = await fetch(`${imageUrl(node, repo, p.name)}/manifests/${p.version}`, { headers: { authorization: node.auth, accept: OCI_MANIFEST } });
  if (m.status !== 200) {
    await m.arrayBuffer();
    return { status: m.status, body: Buffer.alloc(0) };
  }
  const manifest = (await m.json()) as { layers: { digest: string }[] };
  const blob = await fetch(`${imageUrl(node, repo, p.name)}/blobs/${manifest.layers[0].digest}`, { headers: { authorization: node.auth } });
  return { status: blob.status, body: Buffer.from(await blob.arrayBuffer()) };
}

formatConformance({
  packageType: 'docker',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => `${upstream.base}/api/docker/${key}`,
  publish,
  fetch: pull,
  expectedContent: layerOf,
  /** The image's tags list (none for an image the repository does not know). */
  async versions(node, repo, name) {
    const res = await fetch(`${imageUrl(node, repo, name)}/tags/list`, { headers: { authorization: node.auth } });
    if (res.status === 404) {
      await res.arrayBuffer();
      return [];
    }
    if (res.status !== 200) throw new Error(`tags list of ${repo}/${name}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { tags: string[] }).tags;
  },
  /** A DELETE of the manifest by tag (the spec's tag deletion): the tag goes, the manifest stays by digest. */
  async remove(node, repo, p) {
    const res = await fetch(`${imageUrl(node, repo, p.name)}/manifests/${p.version}`, { method: 'DELETE', headers: { authorization: node.auth } });
    await res.arrayBuffer();
    return res.status;
  },
  redeploy: 'overwrite',
});
