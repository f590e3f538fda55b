import { DockerManifest, DockerTags } from '../docker-panel';
import { ChartPanel, chartFileOf, CratePanel, crateFileOf, DebianPackagePanel, GemPanel, goFileOf, GoModulePanel, rpmFileOf, RpmPackagePanel } from '../format-panels';
import { MavenPanel, mavenCoordinatesOf, npmPackageOf, NpmPackagePanel } from '../package-panel';
import type { RepoSummary } from './snippets';
import { PypiView } from './views';

/** A PyPI distribution file (`{project}/{version}/{file}`): its project and version. */
export function pypiFileOf(path: string): { project: string; version: string } | undefined {
  const segs = path.split('/').filter(Boolean);
  if (segs.length !== 3 || !/\.(whl|tar\.gz|zip|tar\.bz2|tgz)$/.test(segs[2])) return undefined;
  return { project: segs[0], version: segs[1] };
}

/**
 * The package view for an item Browse shows, whatever the format: one mount point for item
 * details (`folder` for a folder). Renders nothing for items that make no package.
 */
export function PackageViewForPath({ repo, path, folder }: { repo: RepoSummary; path: string; folder: boolean }) {
  const type = repo.packageType.toLowerCase();
  const key = repo.key;
  if (type === 'npm') {
    const name = path ? npmPackageOf(path) : undefined;
    return name ? <NpmPackagePanel repo={key} name={name} /> : null;
  }
  if (type === 'docker' || type === 'oci') {
    if (folder) return path ? <DockerTags repo={key} image={path} /> : null;
    return /(^|\/)(list\.)?manifest\.json$/.test(path) ? <DockerManifest repo={key} path={path} /> : null;
  }
  if (folder) {
    if (type === 'pypi' && path && !path.includes('/')) return <PypiView repo={key} project={path} />;
    return null;
  }
  if (type === 'maven' || type === 'gradle') {
    const c = mavenCoordinatesOf(path);
    return c ? <MavenPanel c={c} repo={key} /> : null;
  }
  if (type === 'pypi') {
    const f = pypiFileOf(path);
    return f ? <PypiView repo={key} project={f.project} version={f.version} /> : null;
  }
  if (type === 'go') {
    const g = goFileOf(path);
    return g ? <GoModulePanel repo={key} module={g.module} version={g.version} /> : null;
  }
  if (type === 'cargo') {
    const c = crateFileOf(path);
    return c ? <CratePanel repo={key} name={c.name} version={c.version} /> : null;
  }
  if (type === 'gems') return path.startsWith('gems/') && path.endsWith('.gem') ? <GemPanel repo={key} path={path} /> : null;
  if (type === 'helm') {
    const c = chartFileOf(path);
    return c ? <ChartPanel repo={key} name={c.name} version={c.version} /> : null;
  }
  if (type === 'debian') return path.endsWith('.deb') ? <DebianPackagePanel repo={key} path={path} /> : null;
  if (type === 'rpm' || type === 'yum') {
    const r = rpmFileOf(path);
    return r ? <RpmPackagePanel repo={key} {...r} /> : null;
  }
  return null;
}
