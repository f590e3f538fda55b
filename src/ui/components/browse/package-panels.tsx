import { PackageViewForPath } from '../packages/for-path';
import type { RepoSummary } from '../setup-snippets';

/**
 * The package view of a file or folder (every format, components/packages/for-path.tsx), in a
 * chunk of its own: the Browse page shows an item's own facts first and this when it arrives.
 */
export default function PackagePanels({ repo, path, folder }: { repo: RepoSummary; path: string; folder: boolean }) {
  return <PackageViewForPath repo={repo} path={path} folder={folder} />;
}
