/**
 * Chart archives for tests, made here as `helm package` lays them out (a gzip'd ustar with
 * one `{name}/` folder holding Chart.yaml, values.yaml and templates), plus hostile ones:
 * links, absolute paths, `..`, two top-level folders, files outside the folder.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';

export interface TarEntry {
  name: string;
  data?: string | Buffer;
  /** tar type flag: '0' file (default), '5' folder, '1' hard link, '2' symlink, 'x' pax. */
  type?: string;
  linkname?: string;
}

function octal(h: Buffer, start: number, length: number, value: number): void {
  h.write(value.toString(8).padStart(length - 1, '0'), start, length - 1, 'ascii');
}

function header(name: string, size: number, type: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, type === '5' ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 1_700_000_000);
  h.write('        ', 148, 8, 'ascii');
  h.write(type, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

/** An uncompressed tar of `entries`, with the two zero blocks at its end. */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(header(e.name, data.length, e.type ?? '0', e.linkname));
    parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function tgzOf(entries: TarEntry[]): Buffer {
  return gzipSync(tarOf(entries));
}

export interface ChartSpec {
  name: string;
  version: string;
  appVersion?: string;
  description?: string;
  /** More Chart.yaml fields (keywords, maintainers, dependencies, annotations…). */
  extra?: Record<string, unknown>;
  /** Changes the bytes of the archive (a redeploy with other content). */
  variant?: number;
  /** The archive's top-level folder (default: the chart's name). */
  folder?: string;
}

export function chartYamlOf(spec: ChartSpec): string {
  return stringify({
    apiVersion: 'v2',
    name: spec.name,
    version: spec.version,
    ...(spec.appVersion === undefined ? {} : { appVersion: spec.appVersion }),
    description: spec.description ?? `A test chart ${spec.name}`,
    type: 'application',
    ...spec.extra,
  });
}

/** A chart archive as `helm package` would make it. */
export function chartTgz(spec: ChartSpec): Buffer {
  const dir = spec.folder ?? spec.name;
  return tgzOf([
    { name: `${dir}/Chart.yaml`, data: chartYamlOf(spec) },
    { name: `${dir}/values.yaml`, data: `replicaCount: 1\nvariant: ${spec.variant ?? 1}\n` },
    { name: `${dir}/templates/deployment.yaml`, data: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' },
    { name: `${dir}/.helmignore`, data: '.git\n' },
  ]);
}

/** A provenance file laid out as `helm package --sign` writes it (the signature itself is not checked by the server). */
export function provOf(name: string, version: string, tgz: Buffer): Buffer {
  const digest = createHash('sha256').update(tgz).digest('hex');
  return Buffer.from(
    `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: ${name}\nversion: ${version}\n\n...\nfiles:\n  ${name}-${version}.tgz: sha256:${digest}\n-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCgAQBQJlAAAAAAkQAAAAAAAAAAAAAA==\n=abcd\n-----END PGP SIGNATURE-----\n`,
  );
}

export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A `multipart/form-data` body with file fields, as `helm cm-push` sends one. */
export function formOf(files: Record<string, { filename: string; data: Buffer }>): { body: Buffer; contentType: string } {
  const boundary = `----arca${Date.now().toString(16)}`;
  const parts: Buffer[] = [];
  for (const [field, f] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${f.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`), f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
