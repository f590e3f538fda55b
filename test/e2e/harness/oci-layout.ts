import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * OCI image layouts (OCI Image Specification, "Image Layout") built by hand for the real
 * clients: `blobs/sha256/<hex>`, `index.json`, `oci-layout`, with real gzip'd tar layers.
 */

export interface Described {
  mediaType: string;
  digest: string;
  size: number;
}

/** A tar archive with the given files (ustar headers written by hand, no tar binary needed). */
export function tarOf(files: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const content = Buffer.from(data);
    const head = Buffer.alloc(512);
    head.write(name, 0, 100);
    head.write('0000644\0', 100);
    head.write('0000000\0', 108);
    head.write('0000000\0', 116);
    head.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
    head.write('00000000000\0', 136);
    head.write('        ', 148);
    head.write('0', 156);
    head.write('ustar\0', 257);
    head.write('00', 263);
    let sum = 0;
    for (const b of head) sum += b;
    head.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(head, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export class OciLayout {
  private readonly refs: (Described & { annotations: Record<string, string> })[] = [];

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  blob(mediaType: string, data: Buffer | string): Described {
    const buf = Buffer.from(data);
    const hex = createHash('sha256').update(buf).digest('hex');
    writeFileSync(join(this.dir, 'blobs', 'sha256', hex), buf);
    return { mediaType, digest: `sha256:${hex}`, size: buf.length };
  }

  /** An image for one platform: a config and `layers` gzip'd tar layers with one file each. */
  image(platform: { os: string; architecture: string }, layers: Record<string, string>[]): Described {
    const tars = layers.map((files) => tarOf(files));
    const config = this.blob(
      'application/vnd.oci.image.config.v1+json',
      JSON.stringify({
        ...platform,
        config: { Cmd: ['/bin/true'] },
        rootfs: { type: 'layers', diff_ids: tars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`) },
      }),
    );
    const layerDescs = tars.map((t) => this.blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(t)));
    return this.blob('application/vnd.oci.image.manifest.v1+json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: layerDescs }));
  }

  /** A multi-platform index over images made with `image()`. */
  index(images: { manifest: Described; platform: { os: string; architecture: string } }[]): Described {
    return this.blob(
      'application/vnd.oci.image.index.v1+json',
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: images.map((i) => ({ ...i.manifest, platform: i.platform })) }),
    );
  }

  /** Names a manifest or index in index.json (`oci:<dir>:<name>`). */
  tag(name: string, d: Described): void {
    this.refs.push({ ...d, annotations: { 'org.opencontainers.image.ref.name': name } });
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.refs }));
  }
}

/** The descriptor index.json of a layout gives for `name`. */
export function layoutRef(dir: string, name: string): Described | undefined {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: (Described & { annotations?: Record<string, string> })[] };
  return index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === name);
}

export function layoutHasBlob(dir: string, digest: string): boolean {
  return existsSync(join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}

export function layoutBlob(dir: string, digest: string): Buffer {
  return readFileSync(join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}
