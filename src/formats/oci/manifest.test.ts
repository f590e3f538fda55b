import { describe, expect, it } from 'vitest';
import { effectiveArtifactType, parseManifest, requiredBlobs } from './manifest.js';
import { acceptsManifest, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './media-types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c: string, size = 10, extra = {}) => ({ mediaType, digest: d(c), size, ...extra });
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));
const image = (extra = {}) => ({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc('application/vnd.oci.image.config.v1+json', 'c'), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', 'a')], ...extra });

function invalid(body: Buffer, type?: string): string {
  try {
    parseManifest(body, type);
    return 'accepted';
  } catch (err) {
    return `${(err as { ociCode: string }).ociCode}: ${(err as Error).message}`;
  }
}

describe('manifest parsing', () => {
  it('reads an OCI image manifest with its config, layers, subject and artifact type', () => {
    const m = parseManifest(buf(image({ artifactType: 'application/x.sig', subject: desc(OCI_MANIFEST, 'e'), annotations: { k: 'v' } })), OCI_MANIFEST);
    expect(m.kind).toBe('image');
    expect(m.config?.digest.text).toBe(d('c'));
    expect(m.layers.map((l) => l.digest.text)).toEqual([d('a')]);
    expect(m.subject?.digest.text).toBe(d('e'));
    expect(m.annotations).toEqual({ k: 'v' });
    expect(effectiveArtifactType(m)).toBe('application/x.sig');
    expect(effectiveArtifactType(parseManifest(buf(image()), undefined))).toBe('application/vnd.oci.image.config.v1+json');
  });

  it('reads Docker schema 2 manifests and manifest lists, and indexes', () => {
    const docker = parseManifest(buf({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: desc('application/vnd.docker.container.image.v1+json', 'c'), layers: [desc('application/vnd.docker.image.rootfs.diff.tar.gzip', 'a')] }), DOCKER_MANIFEST);
    expect(docker.kind).toBe('image');
    const list = parseManifest(buf({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [desc(DOCKER_MANIFEST, 'b', 10, { platform: { os: 'linux', architecture: 'amd64' } })] }), DOCKER_MANIFEST_LIST);
    expect([list.kind, list.manifests.length]).toEqual(['index', 1]);
    // No mediaType field: the Content-Type decides, else the structure.
    expect(parseManifest(buf({ schemaVersion: 2, manifests: [] }), OCI_INDEX).mediaType).toBe(OCI_INDEX);
    expect(parseManifest(buf({ schemaVersion: 2, manifests: [] }), 'application/octet-stream').mediaType).toBe(OCI_INDEX);
    expect(effectiveArtifactType(list)).toBeUndefined();
  });

  it('lists the blobs that must exist, leaving out foreign layers with URLs', () => {
    const m = parseManifest(buf(image({ layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', 'a'), desc('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'f', 10, { urls: ['https://x/y'] })] })), OCI_MANIFEST);
    expect(requiredBlobs(m).map((b) => b.digest.text)).toEqual([d('c'), d('a')]);
  });

  it('refuses what is not a valid manifest with MANIFEST_INVALID and the reason', () => {
    expect(invalid(Buffer.from('{'))).toMatch(/^MANIFEST_INVALID: The manifest is not valid JSON/);
    expect(invalid(Buffer.from(''))).toMatch(/empty/);
    expect(invalid(buf([]))).toMatch(/JSON object/);
    expect(invalid(buf(image({ schemaVersion: 1 })))).toMatch(/schema 1 is not supported/);
    expect(invalid(buf(image()), 'application/vnd.docker.distribution.manifest.v1+prettyjws')).toMatch(/differs from the Content-Type/);
    expect(invalid(buf(image()), DOCKER_MANIFEST)).toMatch(/differs from the Content-Type/);
    expect(invalid(buf(image({ mediaType: 'application/x-foo' })))).toMatch(/Unsupported manifest media type/);
    expect(invalid(buf(image({ config: undefined })))).toMatch(/config must be a descriptor/);
    expect(invalid(buf(image({ layers: [{ mediaType: 'x', digest: 'sha256:abc', size: 1 }] })))).toMatch(/layers\[0\]: .*64 lower-case hex/);
    expect(invalid(buf(image({ layers: [desc('x', 'a', -1)] })))).toMatch(/non-negative integer/);
    expect(invalid(buf(image({ annotations: { k: 1 } })))).toMatch(/object of strings/);
    expect(invalid(buf(image({ manifests: [] })))).toMatch(/has no 'manifests'/);
    expect(invalid(buf({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: desc('x', 'c'), layers: [] }))).toMatch(/at least one layer/);
    expect(invalid(buf({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [desc('text/plain', 'b')] }))).toMatch(/not a manifest media type/);
    expect(invalid(Buffer.alloc(4 * 1024 * 1024 + 1, 32))).toMatch(/^SIZE_INVALID/);
  });

  it('negotiates: image manifests always, an index only for clients that list an index type or a wildcard', () => {
    expect(acceptsManifest(undefined, OCI_INDEX)).toBe(true);
    expect(acceptsManifest('*/*', OCI_INDEX)).toBe(true);
    expect(acceptsManifest(`${OCI_MANIFEST}, ${DOCKER_MANIFEST_LIST}`, OCI_INDEX)).toBe(true);
    expect(acceptsManifest([OCI_MANIFEST, `${OCI_INDEX};q=0.5`], OCI_INDEX)).toBe(true);
    expect(acceptsManifest(DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)).toBe(false);
    expect(acceptsManifest(DOCKER_MANIFEST, OCI_MANIFEST)).toBe(true);
  });
});
