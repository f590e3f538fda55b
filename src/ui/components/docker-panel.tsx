import { api, artifactUrl, storageUrl } from '../api';
import { navigate } from '../router';
import { useBaseUrl } from './base-url';
import { ErrorBox, formatSize } from './common';
import { useAsync } from './hooks';
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

/** The tags of a Docker image folder, with pull commands. */
export function DockerTags({ repo, image }: { repo: string; image: string }) {
  const base = useBaseUrl();
  const host = new URL(base).host;
  const list = useAsync((signal) => api<FileList>(`${storageUrl(repo, image)}?list&deep=1&depth=2`, { signal }), `${repo}/${image}`);
  const tags = list.data ? tagsOf(list.data) : [];
  if (list.data && tags.length === 0) return null;
  return (
    <section className="card" aria-labelledby="docker-title">
      <h2 id="docker-title">Docker image {image}</h2>
      <ErrorBox error={list.error} />
      <table data-testid="docker-tags">
        <thead>
          <tr>
            <th scope="col">Tag</th>
            <th scope="col">Pull</th>
          </tr>
        </thead>
        <tbody>
          {tags.map((t) => (
            <tr key={t}>
              <td>
                <a
                  href={`/ui${browseHref(repo, `${image}/${t}/manifest.json`)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(browseHref(repo, `${image}/${t}/manifest.json`));
                  }}
                >
                  {t}
                </a>
              </td>
              <td>
                <code>
                  docker pull {host}/{repo}/{image}:{t}
                </code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
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
                <dd className="mono">{m.config.digest}</dd>
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
