import { createHash } from 'node:crypto';
import type { TestNode } from '../helpers/node-context.js';

/** A response as the conformance suite reads it, whatever carried the request. */
export interface OciResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer;
}

export interface OciRequest {
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/**
 * What the OCI conformance suite runs against: an in-process node (app.inject), in-process
 * nodes sharing one database (each request to the next node), or real processes behind nginx.
 */
export interface OciTarget {
  /** One HTTP request; `path` starts with '/'. The admin's credentials unless `authorization` is given ('' for none). */
  request(method: string, path: string, opts?: OciRequest): Promise<OciResponse>;
  /** A local docker repository the suite may use (created by the target). */
  repoKey: string;
  close(): Promise<void>;
}

/** An in-process node as a target, its requests through app.inject with the admin's credentials. */
export function nodeTarget(node: TestNode, repoKey: string): OciTarget {
  return {
    repoKey,
    close: () => node.close(),
    async request(method, path, opts = {}) {
      const r = await node.request({ method: method as 'GET', url: path, headers: opts.headers, payload: opts.body });
      return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
    },
  };
}

export const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
export const sha512 = (data: Buffer | string) => `sha512:${createHash('sha512').update(data).digest('hex')}`;

export function h(res: OciResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v === undefined ? undefined : String(v);
}

export function json(res: OciResponse): any {
  return JSON.parse(res.body.toString('utf8'));
}

/** The first OCI error code of a response body. */
export function errorCode(res: OciResponse): string | undefined {
  try {
    return json(res).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** A small client over an OciTarget: pushes blobs and manifests the way registry clients do. */
export class OciClient {
  constructor(
    readonly t: OciTarget,
    /** The `/v2/` name prefix: `{repoKey}` at the root. */
    readonly repo: string,
  ) {}

  url(image: string, rest: string): string {
    return `/v2/${this.repo}/${image}/${rest}`;
  }

  /** POST then PUT with the whole blob (the monolithic two-step push); returns the digest. */
  async pushBlob(image: string, data: Buffer | string): Promise<string> {
    const digest = sha256(data);
    const start = await this.t.request('POST', this.url(image, 'blobs/uploads/'));
    if (start.status !== 202) throw new Error(`POST upload: ${start.status} ${start.body}`);
    const put = await this.t.request('PUT', `${h(start, 'location')}?digest=${digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(data),
    });
    if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${put.body}`);
    return digest;
  }

  /** An OCI image manifest over a config and layers that are pushed first. */
  async pushImage(image: string, tag: string, opts: { layers?: string[]; extra?: Record<string, unknown>; config?: string; configType?: string } = {}) {
    const config = opts.config ?? JSON.stringify({ architecture: 'amd64', os: 'linux', tag });
    const cd = await this.pushBlob(image, config);
    const layers = [];
    for (const l of opts.layers ?? [`layer of ${image}:${tag}`]) layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await this.pushBlob(image, l), size: Buffer.byteLength(l) });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: opts.configType ?? 'application/vnd.oci.image.config.v1+json', digest: cd, size: Buffer.byteLength(config) },
      layers,
      ...(opts.extra ?? {}),
    });
    const res = await this.putManifest(image, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
    if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${res.body}`);
    return { manifest, digest: sha256(manifest), res };
  }

  putManifest(image: string, reference: string, body: string, type: string): Promise<OciResponse> {
    return this.t.request('PUT', this.url(image, `manifests/${reference}`), { headers: { 'content-type': type }, body });
  }
}
