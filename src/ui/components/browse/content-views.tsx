import { useState } from 'react';
import { api, artifactUrl, encodePath } from '../../api';
import { ErrorBox, formatSize } from '../common';
import { useAsync } from '../hooks';
import { SortableTable } from '../sortable-table';

/** The most of a file the text view fetches (a ranged GET, which does not count as a download). */
export const TEXT_VIEW_MAX = 256 * 1024;

const TEXT_NAMES = /(^|\/)(readme|license|licence|notice|changelog|changes|authors|copying)(\.[a-z0-9]+)?$|\.(pom|xml|json|txt|md|markdown|rst|properties|ya?ml|toml|ini|cfg|conf|gradle|kts|sbt|module|sha1|sha256|sha512|md5|asc|sh|js|mjs|cjs|ts|py|rb|go|mod|sum|rs|java|c|h|cpp|csv|html|css|gemspec|spec|repo|list|sig|lock)$/i;

/** True for files the text view offers: a text MIME type or a name of a text file (POM, README, package.json…). */
export function isTextFile(name: string, mimeType?: string): boolean {
  if (mimeType && /^text\/|[+/](json|xml|yaml|javascript)$|^application\/(x-)?(sh|toml|yaml|x-maven-pom\+xml)/i.test(mimeType)) return true;
  return TEXT_NAMES.test(name);
}

/** True for archives whose entries the server lists (docs/rest-api.md, archive entries). */
export function isArchive(name: string): boolean {
  return /\.(zip|jar|war|ear|aar|tar|tar\.gz|tgz)$/i.test(name);
}

async function loadText(repo: string, path: string, signal: AbortSignal): Promise<{ text: string; cut: boolean }> {
  const res = await fetch(artifactUrl(repo, path), {
    headers: { range: `bytes=0-${TEXT_VIEW_MAX - 1}`, 'x-requested-with': 'XMLHttpRequest' },
    credentials: 'same-origin',
    signal,
  });
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
  const buf = await res.arrayBuffer();
  const bytes = new Uint8Array(buf, 0, Math.min(buf.byteLength, TEXT_VIEW_MAX));
  const range = res.headers.get('content-range');
  const total = range ? Number(range.split('/')[1]) : buf.byteLength;
  return { text: new TextDecoder('utf-8').decode(bytes), cut: total > bytes.length };
}

/** A text file's content (at most TEXT_VIEW_MAX bytes of it), shown on demand. */
export function TextView({ repo, path, size }: { repo: string; path: string; size: number }) {
  const [open, setOpen] = useState(false);
  return (
    <section className="card" aria-labelledby="text-title">
      <h2 id="text-title">Content</h2>
      {!open ? (
        <p className="toolbar">
          <button type="button" onClick={() => setOpen(true)}>
            View content
          </button>
          {size > TEXT_VIEW_MAX && <span className="muted">the first {formatSize(TEXT_VIEW_MAX)} of {formatSize(size)}</span>}
        </p>
      ) : (
        <TextBody repo={repo} path={path} />
      )}
    </section>
  );
}

function TextBody({ repo, path }: { repo: string; path: string }) {
  const text = useAsync((signal) => loadText(repo, path, signal), `${repo}/${path}`);
  return (
    <>
      <ErrorBox error={text.error} />
      {!text.data && !text.error && <div className="skeleton" aria-hidden="true" />}
      {text.data && (
        <>
          <pre className="text-view" data-testid="text-view" tabIndex={0} aria-label={`Content of ${path}`}>
            {text.data.text}
          </pre>
          {text.data.cut && <p className="muted">Only the first {formatSize(TEXT_VIEW_MAX)} are shown; download the file for the rest.</p>}
        </>
      )}
    </>
  );
}

interface ArchiveEntriesJson {
  type: string;
  truncated: boolean;
  entries: Array<{ path: string; folder: boolean; size: number; compressedSize?: number }>;
}

/** The entries of a zip, jar, tar or tar.gz, listed by the server on demand (`/api/archive/entries`). */
export function ArchiveView({ repo, path }: { repo: string; path: string }) {
  const [open, setOpen] = useState(false);
  return (
    <section className="card" aria-labelledby="archive-title">
      <h2 id="archive-title">Archive content</h2>
      {!open ? (
        <p className="toolbar">
          <button type="button" onClick={() => setOpen(true)}>
            Browse archive
          </button>
        </p>
      ) : (
        <ArchiveBody repo={repo} path={path} />
      )}
    </section>
  );
}

function ArchiveBody({ repo, path }: { repo: string; path: string }) {
  const list = useAsync((signal) => api<ArchiveEntriesJson>(`/artifactory/api/archive/entries/${encodeURIComponent(repo)}/${encodePath(path)}`, { signal }), `${repo}/${path}`);
  const files = (list.data?.entries ?? []).filter((e) => !e.folder);
  return (
    <>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <div className="skeleton" aria-hidden="true" />}
      {list.data && (
        <>
          <p className="muted">
            {files.length.toLocaleString()} files ({list.data.type}){list.data.truncated ? '; the archive holds more entries than are listed' : ''}.
          </p>
          <SortableTable
            items={files}
            columns={[
              { id: 'path', header: 'Entry', value: (e) => e.path, render: (e) => <span className="ellipsis mono" title={e.path}>{e.path}</span> },
              { id: 'size', header: 'Size', numeric: true, value: (e) => e.size, render: (e) => formatSize(e.size) },
              ...(list.data.type === 'zip' ? [{ id: 'packed', header: 'Compressed', numeric: true, secondary: true, value: (e: { compressedSize?: number }) => e.compressedSize ?? 0, render: (e: { compressedSize?: number }) => formatSize(e.compressedSize ?? 0) }] : []),
            ]}
            rowKey={(e) => e.path}
            caption={`Entries of ${path}`}
            testId="archive-table"
            filterLabel="Filter entries"
            initialSort={{ id: 'path', dir: 'ascending' }}
          />
        </>
      )}
    </>
  );
}
