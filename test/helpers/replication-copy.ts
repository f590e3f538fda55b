import { fullPathOf, getProperties, listDescendants, type PropertyMap } from '../../src/db/items.js';
import type { TestNode } from './node-context.js';

/** One file of a repository as the replication wire protocol sees it. */
export interface ListedItem {
  path: string;
  sha1: string;
  sha256: string;
  size: number;
  mimeType: string;
  properties: PropertyMap;
}

const sorted = (p: PropertyMap): PropertyMap => Object.fromEntries(Object.keys(p).sort().map((k) => [k, [...p[k]].sort()]));

/** Every file of `repo` on `node` with its checksums and properties, by path. */
export async function listItems(node: TestNode, repo: string): Promise<ListedItem[]> {
  const db = node.ctx.database.db;
  const files = (await listDescendants(db, repo, '')).filter((r) => r.type === 'file');
  const props = await getProperties(db, files.map((r) => Number(r.id)));
  return files
    .map((r) => ({
      path: fullPathOf(r),
      sha1: r.sha1!,
      sha256: r.sha256 ?? '',
      size: Number(r.size),
      mimeType: r.mime_type ?? '',
      properties: sorted(props.get(Number(r.id)) ?? {}),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `;key=v1,v2` with key and each value percent-encoded (the wire protocol's matrix). */
export function matrixOf(properties: PropertyMap): string {
  return Object.entries(properties)
    .map(([k, vs]) => `;${encodeURIComponent(k)}=${vs.map(encodeURIComponent).join(',')}`)
    .join('');
}

export const itemUrl = (repo: string, path: string, matrix = '') => `/artifactory/${repo}/${path.split('/').map(encodeURIComponent).join('/')}${matrix}`;

export interface CopyOptions {
  origin: string;
  /** The target user's Authorization (the admin's when undefined). */
  authorization?: string;
  /** Send properties (exact); default true. */
  properties?: boolean;
  /** Only these paths (default: every file), in this order. */
  paths?: string[];
}

export interface CopyResult {
  path: string;
  status: number;
  /** True when the checksum deploy was refused with 404 and the body was sent. */
  withBody: boolean;
  siteId?: string;
  body: string;
}

/**
 * Copies files of `repo` from `source` to the same repository on `target` with the wire
 * protocol (docs/replication.md): a checksum deploy first, the body when that answers 404.
 */
export async function copyRepo(source: TestNode, target: TestNode, repo: string, opts: CopyOptions): Promise<CopyResult[]> {
  const items = await listItems(source, repo);
  const chosen = opts.paths ? opts.paths.map((p) => items.find((i) => i.path === p) ?? assertNever(p)) : items;
  const out: CopyResult[] = [];
  for (const item of chosen) {
    const withProps = opts.properties !== false;
    const url = itemUrl(repo, item.path, withProps ? matrixOf(item.properties) : '');
    const headers: Record<string, string> = {
      'x-checksum-sha1': item.sha1,
      ...(item.sha256 ? { 'x-checksum-sha256': item.sha256 } : {}),
      'x-arca-replication-origin': opts.origin,
      ...(withProps ? { 'x-arca-replication-properties': 'exact' } : {}),
      ...(opts.authorization !== undefined ? { authorization: opts.authorization } : {}),
    };
    let res = await target.request({ method: 'PUT', url, headers: { ...headers, 'x-checksum-deploy': 'true' } });
    let withBody = false;
    if (res.statusCode === 404) {
      const chunks: Buffer[] = [];
      for await (const c of await source.ctx.content.read(item.sha1)) chunks.push(Buffer.from(c as Uint8Array));
      res = await target.request({ method: 'PUT', url, headers: { ...headers, 'content-type': 'application/octet-stream' }, payload: Buffer.concat(chunks) });
      withBody = true;
    }
    out.push({ path: item.path, status: res.statusCode, withBody, siteId: res.headers['x-arca-site-id'] as string | undefined, body: res.body });
  }
  return out;
}

function assertNever(path: string): never {
  throw new Error(`no file '${path}' on the source`);
}
