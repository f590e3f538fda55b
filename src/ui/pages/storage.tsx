import { useMemo } from 'react';
import { api } from '../api';
import { PackageIcon } from '../components/admin/package-icon';
import { dedupRatio } from '../components/admin/storage-math';
import { ErrorBox, formatDate, formatSize, Notice, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import { SortableTable, type Column } from '../components/sortable-table';
import { browseHref } from '../components/tree';
import { Link } from '../router';
import '../styles/admin.css';

interface RepoRow {
  repoKey: string;
  repoType: string;
  packageType?: string;
  foldersCount: number;
  filesCount: number;
  usedSpaceInBytes: number;
  itemsCount: number;
  percentage?: string;
}

interface StorageInfo {
  binariesSummary: { binariesCount: string; binariesSize: string; artifactsSize: string; optimization: string; itemsCount: string; artifactsCount: string };
  fileStoreSummary: { storageType: string; storageDirectory: string; totalSpace: string; usedSpace: string; freeSpace: string };
  repositoriesSummaryList: RepoRow[];
  calculatedAt: string;
}

const COLUMNS: Column<RepoRow>[] = [
  {
    id: 'key',
    header: 'Repository',
    value: (r) => r.repoKey,
    render: (r) => (
      <span className="repo-key">
        {r.packageType && <PackageIcon type={r.packageType} />}
        <Link to={browseHref(r.repoKey)} className="ellipsis" title={r.repoKey}>
          {r.repoKey}
        </Link>
      </span>
    ),
  },
  { id: 'class', header: 'Class', value: (r) => r.repoType.toLowerCase(), secondary: true },
  { id: 'type', header: 'Package type', value: (r) => r.packageType ?? '', secondary: true },
  { id: 'files', header: 'Files', numeric: true, value: (r) => r.filesCount, render: (r) => r.filesCount.toLocaleString() },
  { id: 'folders', header: 'Folders', numeric: true, secondary: true, value: (r) => r.foldersCount, render: (r) => r.foldersCount.toLocaleString() },
  { id: 'size', header: 'Size', numeric: true, value: (r) => r.usedSpaceInBytes, render: (r) => formatSize(r.usedSpaceInBytes) },
  { id: 'share', header: 'Share', numeric: true, secondary: true, value: (r) => Number.parseFloat(r.percentage ?? '0'), render: (r) => r.percentage ?? '' },
];

/** `/admin/storage`: binaries, deduplication, the file store's disk, and size and counts per repository (`/api/storageinfo`). */
export default function StoragePage() {
  const info = useAsync((signal) => api<StorageInfo>('/artifactory/api/storageinfo', { signal }), 'storage-page');
  const recalc = useAction();
  const rows = useMemo(() => (info.data?.repositoriesSummaryList ?? []).filter((r) => r.repoKey !== 'TOTAL'), [info.data]);
  const total = info.data?.repositoriesSummaryList.find((r) => r.repoKey === 'TOTAL');
  const b = info.data?.binariesSummary;
  const f = info.data?.fileStoreSummary;
  return (
    <Page
      title="Storage"
      actions={
        <button
          type="button"
          disabled={recalc.busy}
          onClick={() =>
            void recalc.run(async () => {
              await api('/artifactory/api/storageinfo/calculate', { method: 'POST' });
              window.setTimeout(info.reload, 1500);
              return 'Recalculation started; the counts refresh in a moment.';
            })
          }
        >
          Recalculate
        </button>
      }
    >
      <ErrorBox error={info.error ?? recalc.error} />
      <Notice>{recalc.message}</Notice>
      {!info.data ? (
        <div className="skeleton" aria-hidden="true" />
      ) : (
        <>
          <div className="stat-cards" data-testid="storage-summary">
            <div className="card">
              <span className="muted">Binaries</span>
              <span className="value">{b!.binariesCount}</span>
              <span>{b!.binariesSize} stored</span>
            </div>
            <div className="card">
              <span className="muted">Artifacts</span>
              <span className="value">{b!.artifactsCount}</span>
              <span>{b!.artifactsSize} in repositories</span>
            </div>
            <div className="card">
              <span className="muted">Deduplication</span>
              <span className="value" data-testid="dedup-ratio">
                {dedupRatio(b!.optimization)}
              </span>
              <span>binaries are {b!.optimization} of the artifacts’ size</span>
            </div>
            <div className="card">
              <span className="muted">File store ({f!.storageType})</span>
              <span className="value">{f!.freeSpace.split(' (')[0]}</span>
              <span>free of {f!.totalSpace}</span>
            </div>
          </div>
          <p className="muted">
            Per-repository counts as of {formatDate(info.data.calculatedAt)}
            {total ? `: ${total.filesCount.toLocaleString()} files, ${formatSize(total.usedSpaceInBytes)} in all` : ''}.
          </p>
          <SortableTable items={rows} columns={COLUMNS} rowKey={(r) => r.repoKey} caption="Storage per repository" testId="storage-repos" filterLabel="Filter repositories" initialSort={{ id: 'size', dir: 'descending' }} empty="No repositories." />
        </>
      )}
    </Page>
  );
}
