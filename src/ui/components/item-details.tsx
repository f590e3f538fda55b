import { lazy, Suspense, useState } from 'react';
import { api, artifactUrl, encodePath, storageUrl } from '../api';
import { Link, navigate } from '../router';
import { CopyMoveForm, PropertiesPanel, usePermissions, type Perms } from './browse/actions';
import { ArchiveView, isArchive, isTextFile, TextView } from './browse/content-views';
import { FolderTable, folderQuery, type FolderPage } from './browse/folder-table';
import { prefetch, take } from './browse/prefetch';
import { ErrorBox, formatDate, formatSize } from './common';
import { ConfirmButton } from './confirm-button';
import { Copyable } from './copy-button';
import { DeployZone } from './deploy-zone';
import { useAsync } from './hooks';
import type { RepoSummary } from './setup-snippets';
import { browseHref } from './tree';

const PackagePanels = lazy(() => import('./browse/package-panels'));

export interface ItemInfo extends FolderPage {
  repo: string;
  path: string;
  created?: string;
  createdBy?: string;
  lastModified?: string;
  modifiedBy?: string;
  lastUpdated?: string;
  size?: string;
  mimeType?: string;
  checksums?: { sha1?: string; md5?: string; sha256?: string };
  remoteUrl?: string;
  /** In a virtual repository: the member whose copy a download serves. */
  resolvedRepo?: string;
}

interface Stats {
  downloadCount: number;
  lastDownloaded: number;
  lastDownloadedBy: string | null;
  remoteDownloadCount?: number;
}

export interface BrowseContext {
  repo: RepoSummary;
  repos: RepoSummary[];
  user: { name: string; anonymous: boolean; admin: boolean };
  version: number;
  onChanged: () => void;
  showInternal: boolean;
  onShowInternal: (on: boolean) => void;
}

function parentOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

/** Delete with an inline confirmation (no native dialog), then back to the parent folder. */
function DeleteButton({ repo, path, onDeleted }: { repo: string; path: string; onDeleted: () => void }) {
  return (
    <ConfirmButton
      label="Delete"
      inline
      groupLabel="Confirm deletion"
      question={
        <>
          Delete <code>{path}</code>?
        </>
      }
      onConfirm={async () => {
        await api(artifactUrl(repo, path), { method: 'DELETE' });
        onDeleted();
        navigate(browseHref(repo, parentOf(path)));
      }}
    />
  );
}

/** The actions bar of an item: each shown only when the permissions allow it. */
function Actions({ ctx, path, folder, perms }: { ctx: BrowseContext; path: string; folder: boolean; perms: Perms }) {
  const [form, setForm] = useState<'copy' | 'move'>();
  const { repo } = ctx;
  const virtual = repo.type === 'VIRTUAL';
  const name = path.slice(path.lastIndexOf('/') + 1) || repo.key;
  // Copying writes to the target: offered to users who may write here (or administrators).
  const canCopy = !virtual && path !== '' && perms.user && perms.read && (perms.write || ctx.user.admin);
  const canMove = canCopy && perms.delete && repo.type === 'LOCAL';
  return (
    <>
      <div className="toolbar item-actions" role="toolbar" aria-label="Item actions">
        {!folder && (
          <a className="button" href={artifactUrl(repo.key, path)} download={name}>
            Download<span className="sr-only"> {name}</span>
          </a>
        )}
        {folder && !virtual && perms.read && (
          <a className="button" href={`/artifactory/api/archive/download/${encodeURIComponent(repo.key)}${path ? `/${encodePath(path)}` : ''}?archiveType=zip`} download>
            Download folder as zip
          </a>
        )}
        {canCopy && (
          <button type="button" aria-expanded={form === 'copy'} onClick={() => setForm(form === 'copy' ? undefined : 'copy')}>
            Copy…
          </button>
        )}
        {canMove && (
          <button type="button" aria-expanded={form === 'move'} onClick={() => setForm(form === 'move' ? undefined : 'move')}>
            Move…
          </button>
        )}
        {!virtual && path !== '' && perms.delete && <DeleteButton repo={repo.key} path={path} onDeleted={ctx.onChanged} />}
      </div>
      {form && (
        <CopyMoveForm
          key={form}
          mode={form}
          repo={repo.key}
          path={path}
          repos={ctx.repos}
          onCancel={() => setForm(undefined)}
          onDone={(to) => {
            ctx.onChanged();
            if (form === 'move') navigate(browseHref(to.slice(0, to.indexOf('/')), to.slice(to.indexOf('/') + 1)));
          }}
        />
      )}
    </>
  );
}

function DownloadStats({ repo, path, version }: { repo: string; path: string; version: number }) {
  const stats = useAsync((signal) => api<Stats>(`${storageUrl(repo, path)}?stats`, { signal }), `${repo}/${path}#${version}`);
  if (!stats.data) return <dd>{stats.error ? <span className="muted">unknown</span> : '…'}</dd>;
  const s = stats.data;
  return (
    <dd data-testid="download-count">
      {s.downloadCount.toLocaleString()}
      {s.lastDownloaded > 0 && (
        <span className="muted">
          {' '}
          (last {formatDate(s.lastDownloaded)}
          {s.lastDownloadedBy ? ` by ${s.lastDownloadedBy}` : ''})
        </span>
      )}
      {(s.remoteDownloadCount ?? 0) > 0 && <span className="muted"> + {s.remoteDownloadCount} through replication targets</span>}
    </dd>
  );
}

function FileDetails({ info, ctx, path, perms }: { info: ItemInfo; ctx: BrowseContext; path: string; perms: Perms }) {
  const { repo, version } = ctx;
  const name = path.slice(path.lastIndexOf('/') + 1);
  const size = Number(info.size);
  const sums: Array<[string, string | undefined]> = [
    ['SHA-256', info.checksums?.sha256],
    ['SHA-1', info.checksums?.sha1],
    ['MD5', info.checksums?.md5],
  ];
  return (
    <>
      <section className="card" aria-labelledby="file-title">
        <h2 id="file-title" className="ellipsis" title={name}>
          {name}
        </h2>
        <Actions ctx={ctx} path={path} folder={false} perms={perms} />
        <dl className="props" data-testid="file-info">
          <dt>Repository path</dt>
          <dd>
            <Copyable text={`${repo.key}/${path}`} label="Copy the repository path" />
          </dd>
          {info.resolvedRepo && (
            <>
              <dt>Served from</dt>
              <dd data-testid="resolved-repo">
                <Link to={browseHref(info.resolvedRepo, path)}>{info.resolvedRepo}</Link> <span className="muted">(member of {repo.key}; open it there to change it)</span>
              </dd>
            </>
          )}
          <dt>Size</dt>
          <dd>
            {formatSize(size)} ({size} bytes)
          </dd>
          <dt>MIME type</dt>
          <dd>{info.mimeType}</dd>
          <dt>Created</dt>
          <dd>
            {formatDate(info.created)} by {info.createdBy}
          </dd>
          <dt>Last modified</dt>
          <dd>
            {formatDate(info.lastModified)} by {info.modifiedBy}
          </dd>
          <dt>Downloads</dt>
          <DownloadStats repo={repo.key} path={path} version={version} />
          {info.remoteUrl && (
            <>
              <dt>Remote URL</dt>
              <dd>{info.remoteUrl}</dd>
            </>
          )}
          {sums.map(([label, value]) => (
            <div key={label} className="dl-row">
              <dt>{label}</dt>
              <dd className="mono">{value ? <Copyable text={value} label={`Copy the ${label} checksum`} /> : <span className="muted">being computed</span>}</dd>
            </div>
          ))}
        </dl>
      </section>
      {isTextFile(name, info.mimeType) && <TextView repo={repo.key} path={path} size={size} />}
      {isArchive(name) && <ArchiveView repo={repo.key} path={path} />}
      <PropertiesPanel repo={repo.key} path={path} folder={false} canEdit={perms.annotate && repo.type !== 'VIRTUAL'} version={version} onChanged={ctx.onChanged} />
      <Suspense fallback={null}>
        <PackagePanels repo={repo} path={path} folder={false} />
      </Suspense>
    </>
  );
}

function FolderDetails({ info, ctx, path, perms }: { info: ItemInfo; ctx: BrowseContext; path: string; perms: Perms }) {
  const { repo } = ctx;
  const type = repo.packageType.toLowerCase();
  // Remote repositories take no deploys; Docker images are pushed through the registry API.
  const deployable = repo.type === 'LOCAL' && type !== 'docker' && type !== 'oci' && perms.write;
  return (
    <>
      <section className="card" aria-labelledby="children-title">
        <h2 id="children-title" className="ellipsis" title={path ? `${path}/` : repo.key}>
          {path ? `${path}/` : 'Contents'}
        </h2>
        {repo.type === 'VIRTUAL' && <p className="muted">The merged content of this virtual repository's members; the From column names the member each entry comes from.</p>}
        <Actions ctx={ctx} path={path} folder perms={perms} />
        <FolderTable repo={repo} path={path} first={info} showInternal={ctx.showInternal} onShowInternal={ctx.onShowInternal} />
      </section>
      {deployable && (
        <section className="card" aria-labelledby="deploy-title">
          <h2 id="deploy-title">Deploy</h2>
          <DeployZone repo={repo.key} folder={path} packageType={repo.packageType} onDeployed={ctx.onChanged} />
        </section>
      )}
      {path !== '' && <PropertiesPanel repo={repo.key} path={path} folder canEdit={perms.annotate && repo.type !== 'VIRTUAL'} version={ctx.version} onChanged={ctx.onChanged} />}
      <Suspense fallback={null}>
        <PackagePanels repo={repo} path={path} folder />
      </Suspense>
    </>
  );
}

/** The item's request: its info and, for a folder, the first page of its children. */
export function itemUrl(repo: string, path: string): string {
  return `${storageUrl(repo, path)}${folderQuery()}`;
}

/** Starts loading `repo/path` now (the Browse page calls it as it opens, alongside the repository list). */
export function prefetchItem(repo: string, path: string): void {
  prefetch(itemUrl(repo, path));
}

/**
 * The selected item: a file's facts, content, archive entries and properties, or a folder's
 * content table and deploy zone, with the actions the caller's permissions allow. One request
 * brings the item and, for a folder, its first 1,000 children with their details.
 */
export function ItemDetails({ ctx, path }: { ctx: BrowseContext; path: string }) {
  const { repo, version } = ctx;
  const item = useAsync((signal) => take<ItemInfo>(itemUrl(repo.key, path), signal), `${repo.key}/${path}#${version}`);
  // Asked once the item is here: on a busy node the item's own request goes first.
  const perms = usePermissions(repo.key, path, ctx.user, String(version), !!item.data || !!item.error);
  const info = item.data;
  // While the next item loads, the previous one stays out of sight (it belongs to another path).
  const current = info && info.path.replace(/^\/+|\/+$/g, '') === path ? info : undefined;
  return (
    <div className="item-details">
      <ErrorBox error={item.error} />
      {!current && !item.error && (
        <div className="card" aria-busy="true">
          <div className="skeleton" aria-hidden="true" />
          <p className="sr-only">Loading…</p>
        </div>
      )}
      {current &&
        (current.children ? (
          <FolderDetails info={current} ctx={ctx} path={path} perms={perms ?? { read: true, annotate: false, write: false, delete: false, user: false }} />
        ) : (
          <FileDetails info={current} ctx={ctx} path={path} perms={perms ?? { read: true, annotate: false, write: false, delete: false, user: false }} />
        ))}
    </div>
  );
}
