import { DockerManifest, DockerTags } from '../docker-panel';
import { ChartPanel, chartFileOf, CratePanel, crateFileOf, DebianPackagePanel, GemPanel, goFileOf, GoModulePanel, rpmFileOf, RpmPackagePanel } from '../format-panels';
import { MavenPanel, mavenCoordinatesOf, npmPackageOf, NpmPackagePanel } from '../package-panel';
import type { RepoSummary } from '../setup-snippets';

/**
 * The package views of a file or folder (npm, Maven, Docker, Go, Cargo, RubyGems, Helm, Debian,
 * RPM), in a chunk of their own: the Browse page shows an item's own facts first and these
 * when they arrive.
 */
export default function PackagePanels({ repo, path, folder }: { repo: RepoSummary; path: string; folder: boolean }) {
  const type = repo.packageType.toLowerCase();
  if (folder) {
    const npmName = type === 'npm' && path ? npmPackageOf(path) : undefined;
    return (
      <>
        {npmName && <NpmPackagePanel repo={repo.key} name={npmName} />}
        {(type === 'docker' || type === 'oci') && path && <DockerTags repo={repo.key} image={path} />}
      </>
    );
  }
  const npmName = type === 'npm' ? npmPackageOf(path) : undefined;
  const maven = type === 'maven' || type === 'gradle' ? mavenCoordinatesOf(path) : undefined;
  const docker = (type === 'docker' || type === 'oci') && /(^|\/)(list\.)?manifest\.json$/.test(path);
  const goFile = type === 'go' ? goFileOf(path) : undefined;
  const crate = type === 'cargo' ? crateFileOf(path) : undefined;
  const gem = type === 'gems' && path.startsWith('gems/') && path.endsWith('.gem');
  const chart = type === 'helm' ? chartFileOf(path) : undefined;
  const deb = type === 'debian' && path.endsWith('.deb');
  const rpm = type === 'rpm' || type === 'yum' ? rpmFileOf(path) : undefined;
  return (
    <>
      {npmName && <NpmPackagePanel repo={repo.key} name={npmName} />}
      {maven && <MavenPanel c={maven} />}
      {docker && <DockerManifest repo={repo.key} path={path} />}
      {goFile && <GoModulePanel repo={repo.key} module={goFile.module} version={goFile.version} />}
      {crate && <CratePanel repo={repo.key} name={crate.name} version={crate.version} />}
      {gem && <GemPanel repo={repo.key} path={path} />}
      {chart && <ChartPanel repo={repo.key} name={chart.name} version={chart.version} />}
      {deb && <DebianPackagePanel repo={repo.key} path={path} />}
      {rpm && <RpmPackagePanel repo={repo.key} {...rpm} />}
    </>
  );
}
