import { api, artifactUrl, storageUrl } from '../api';
import { Link } from '../router';
import { ErrorBox, formatSize } from './common';
import { Copyable } from './copy-button';
import { useAsync } from './hooks';
import { naturalCompare } from './natural';
import { PackageCard } from './packages/parts';
import { useRepoBase } from './packages/repo-base';
import { SortableTable, type Column } from './sortable-table';
import { browseHref } from './tree';

interface FileList {
  files: Array<{ uri: string; size: number; folder: boolean }>;
}

interface Manifest {
  schemaVersion?: number;
  mediaType?: string;
  config?: { mediaType?: string; digest?: string; size?: number };
  layers?: Array<{ mediaType?: string; digest: string; size: number }>;
  manifests?: Array<{ mediaType?: string; digest: string; size: number; platform?: { os?: string; architecture?: string; variant?: string } }>;
}

/** Tags of an image folder, from the repository layout: `{tag}/manifest.json` or `{tag}/list.manifest.json`. */
export function tagsOf(list: FileList): string[] {
  const tags = new Set<string>();
  for (const f of list.files) {
    const m = /^\/([^/]+)\/(list\.)?manifest\.json$/.exec(f.uri);
    if (m && !m[1].startsWith('sha256:') && !m[1].startsWith('_')) tags.add(m[1]);
  }
  return [...tags].sort();
}

/** The image and tag of a manifest path (`team/app/1.0/manifest.json`). */
export function manifestRef(path: string): { image: string; tag: string } | undefined {
  const m = /^(.+)\/([^/]+)\/(list\.)?manifest\.json$/.exec(path);
  return m ? { image: m[1], tag: m[2] } : undefined;
}

interface TagRow {
  key: string;
  tag: string;
  platform: string;
  digest: string;
  size?: number;
  note?: string;
}

/** Tags whose manifests are read for their platforms and sizes (the rest show their digest only). */
const DETAILED_TAGS = 40;

async function tagRows(repo: string, image: string, list: FileList, signal: AbortSignal): Promise<TagRow[]> {
  const files = new Map(list.files.map((f) => [f.uri, f]));
  const tags = tagsOf(list).sort((a, b) => naturalCompare(b, a));
  // Blobs come back as octet-stream (text here): read as JSON either way.
  const read = async (path: string) => {
    const body = await api<unknown>(artifactUrl(repo, `${image}/${path}`), { signal, headers: { accept: 'application/json, */*' } });
    return (typeof body === 'string' ? JSON.parse(body) : body) as Manifest & { os?: string; architecture?: string; variant?: string };
  };
  const platformOf = async (folder: string, m: Manifest): Promise<string> => {
    if (!m.config?.digest) return '';
    const cfg = await read(`${folder}/${m.config.digest.replace(':', '__')}`).catch(() => undefined);
    return cfg && typeof cfg === 'object' ? [cfg.os, cfg.architecture, cfg.variant].filter(Boolean).join('/') : '';
  };
  const sizeOf = (m: Manifest) => (m.layers ?? []).reduce((n, l) => n + l.size, 0) + (m.config?.size ?? 0);
  const rows = await Promise.all(
    tags.map(async (tag, i): Promise<TagRow[]> => {
      const isList = files.has(`/${tag}/list.manifest.json`);
      const file = files.get(`/${tag}/${isList ? 'list.' : ''}manifest.json`) as (FileList['files'][number] & { sha2?: string }) | undefined;
      const digest = file?.sha2 ? `sha256:${file.sha2}` : '';
      if (i >= DETAILED_TAGS) return [{ key: tag, tag, platform: '', digest }];
      const m = await read(`${tag}/${isList ? 'list.' : ''}manifest.json`).catch(() => undefined);
      if (!m || typeof m !== 'object') return [{ key: tag, tag, platform: '', digest }];
      if (!m.manifests) return [{ key: tag, tag, platform: await platformOf(tag, m), digest, size: sizeOf(m) }];
      return Promise.all(
        m.manifests.map(async (x) => {
          const sub = await read(`${x.digest}/manifest.json`).catch(() => undefined);
          return { key: `${tag}|${x.digest}`, tag, platform: [x.platform?.os, x.platform?.architecture, x.platform?.variant].filter(Boolean).join('/'), digest: x.digest, size: sub && typeof sub === 'object' ? sizeOf(sub) : undefined, note: `index ${digest.slice(0, 19)}…` };
        }),
      );
    }),
  );
  return rows.flat();
}

/** The tags of a Docker image folder: one row per tag and platform (an index gives one per platform), with digest, size and the pull command. */
export function DockerTags({ repo, image }: { repo: string; image: string }) {
  const host = new URL(useRepoBase(repo)).host;
  const rows = useAsync(async (signal) => tagRows(repo, image, await api<FileList>(`${storageUrl(repo, image)}?list&deep=1&depth=2`, { signal }), signal), `${repo}/${image}`);
  if (rows.data && rows.data.length === 0) return null;
  const columns: Column<TagRow>[] = [
    {
      id: 'tag',
      header: 'Tag',
      value: (r) => r.tag,
      render: (r) => (
        <Link to={browseHref(repo, `${image}/${r.tag}`)} className="ellipsis" title={r.tag}>
          {r.tag}
        </Link>
      ),
    },
    { id: 'platform', header: 'Platform', value: (r) => r.platform },
    { id: 'digest', header: 'Digest', value: (r) => r.digest, render: (r) => (r.digest ? <Copyable text={r.digest} label={`Copy the digest of ${r.tag} ${r.platform}`}>{`${r.digest.slice(0, 19)}…`}</Copyable> : '') },
    { id: 'size', header: 'Size', numeric: true, value: (r) => r.size, render: (r) => (r.size === undefined ? '' : formatSize(r.size)), secondary: true },
    { id: 'pull', header: 'Pull', render: (r) => <Copyable text={`docker pull ${host}/${repo}/${image}:${r.tag}`} label={`Copy the pull command of ${r.tag}`} /> },
  ];
  return (
    <PackageCard id="docker" title={`Docker image ${image}`} error={rows.error} loading={rows.loading && !rows.data}>
      {rows.data && <SortableTable items={rows.data} columns={columns} rowKey={(r) => r.key} caption={`Tags of ${image}`} testId="docker-tags" filterLabel={rows.data.length > 10 ? 'Filter tags' : undefined} pageSize={25} />}
    </PackageCard>
  );
}

/** A manifest's layers (or an index's platforms), read from the stored manifest file. */
export function DockerManifest({ repo, path }: { repo: string; path: string }) {
  const ref = manifestRef(path);
  const manifest = useAsync((signal) => api<Manifest>(artifactUrl(repo, path), { signal, headers: { accept: 'application/json, */*' } }), `${repo}/${path}`);
  const m = manifest.data && typeof manifest.data === 'object' ? manifest.data : undefined;
  if (!ref) return null;
  const total = (m?.layers ?? []).reduce((n, l) => n + l.size, 0) + (m?.config?.size ?? 0);
  return (
    <section className="card" aria-labelledby="manifest-title">
      <h2 id="manifest-title">
        {ref.image}:{ref.tag}
      </h2>
      <ErrorBox error={manifest.error} />
      {m && (
        <>
          <dl className="props">
            <dt>Media type</dt>
            <dd>{m.mediaType ?? '(none)'}</dd>
            {m.config?.digest && (
              <>
                <dt>Config</dt>
                <dd>
                  <Copyable text={m.config.digest} label="Copy the config digest" />
                </dd>
              </>
            )}
            {m.layers && (
              <>
                <dt>Size</dt>
                <dd>
                  {formatSize(total)} in {m.layers.length} layer{m.layers.length === 1 ? '' : 's'}
                </dd>
              </>
            )}
          </dl>
          {m.layers && (
            <table data-testid="docker-layers">
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col">Size</th>
                </tr>
              </thead>
              <tbody>
                {m.layers.map((l) => (
                  <tr key={l.digest}>
                    <td className="mono">{l.digest}</td>
                    <td className="num">{formatSize(l.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {m.manifests && (
            <table>
              <thead>
                <tr>
                  <th scope="col">Platform</th>
                  <th scope="col">Manifest</th>
                </tr>
              </thead>
              <tbody>
                {m.manifests.map((x) => (
                  <tr key={x.digest}>
                    <td>{[x.platform?.os, x.platform?.architecture, x.platform?.variant].filter(Boolean).join('/')}</td>
                    <td className="mono">{x.digest}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
