import { useState } from 'react';
import { api, storageUrl } from '../api';
import { Link, useRoute } from '../router';
import { formatSize } from './common';
import { Copyable } from './copy-button';
import { useAsync } from './hooks';
import { Dependencies, Facts, InstallCommand, PackageCard, Readme, VersionsTable } from './packages/parts';
import { useRepoClass } from './packages/repo-base';

/** The npm package a repository path belongs to (`pkg/-/pkg-1.0.0.tgz`, `@scope/pkg/…`), if any. */
export function npmPackageOf(path: string): string | undefined {
  const segs = path.split('/').filter(Boolean);
  if (segs.length === 0 || segs[0].startsWith('.')) return undefined;
  if (segs[0].startsWith('@')) return segs.length >= 2 ? `${segs[0]}/${segs[1]}` : undefined;
  return segs[0];
}

export interface MavenCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
  classifier?: string;
  extension: string;
}

/** Maven coordinates from a standard-layout file path (`org/acme/lib/1.0/lib-1.0-sources.jar`). */
export function mavenCoordinatesOf(path: string): MavenCoordinates | undefined {
  const segs = path.split('/').filter(Boolean);
  if (segs.length < 4) return undefined;
  const [file, version, artifactId] = [segs[segs.length - 1], segs[segs.length - 2], segs[segs.length - 3]];
  const groupId = segs.slice(0, -3).join('.');
  // A SNAPSHOT file carries a timestamp instead of "SNAPSHOT": lib-1.0-20240101.120000-1.jar.
  const base = version.endsWith('-SNAPSHOT') ? version.slice(0, -'SNAPSHOT'.length) : version;
  const prefix = `${artifactId}-${base}`;
  if (!file.startsWith(prefix)) return undefined;
  let rest = file.slice(prefix.length);
  if (version.endsWith('-SNAPSHOT')) rest = rest.replace(/^(SNAPSHOT|\d{8}\.\d{6}-\d+)/, '');
  const m = /^(?:-([^.]+))?\.(.+)$/.exec(rest);
  if (!m) return undefined;
  return { groupId, artifactId, version, classifier: m[1], extension: m[2] };
}

interface NpmVersion {
  version: string;
  deprecated?: string;
  description?: string;
  license?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dist?: { tarball?: string; unpackedSize?: number; fileCount?: number; shasum?: string; integrity?: string };
}

interface Packument {
  name: string;
  description?: string;
  readme?: string;
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, NpmVersion>;
  time?: Record<string, string>;
}

function escapeNpmName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

/** An npm package: dist-tags, versions, the install command, the shown version's dependencies and size, the readme. */
export function NpmPackagePanel({ repo, name, version }: { repo: string; name: string; version?: string }) {
  const doc = useAsync((signal) => api<Packument>(`/artifactory/api/npm/${encodeURIComponent(repo)}/${escapeNpmName(name)}`, { signal }), `${repo}/${name}`);
  const p = doc.data;
  const [picked, setPicked] = useState<string>();
  const shownVersion = picked ?? (version && p?.versions?.[version] ? version : p?.['dist-tags']?.latest);
  const v = shownVersion ? p?.versions?.[shownVersion] : undefined;
  // The tarball's stored size (a local repository's own file; elsewhere it may not be stored yet).
  const local = useRepoClass(repo) === 'LOCAL';
  const short = name.split('/').pop() ?? name;
  const tarball = useAsync(
    (signal) => (local && shownVersion ? api<{ size?: string }>(storageUrl(repo, `${name}/-/${short}-${shownVersion}.tgz`), { signal }).catch(() => ({ size: undefined })) : Promise.resolve({ size: undefined })),
    `${repo}/${name}@${shownVersion}/${local}`,
  );
  const deps = v ? [...Object.entries(v.dependencies ?? {}).map(([n, r]) => ({ name: n, req: r })), ...Object.entries(v.peerDependencies ?? {}).map(([n, r]) => ({ name: n, req: r, note: 'peer' }))] : undefined;
  return (
    <PackageCard id="npm" title={`npm package ${name}`} error={doc.error} loading={doc.loading && !p}>
      {p && (
        <>
          <Facts
            items={[
              ['Description', v?.description ?? p.description],
              ['Dist-tags', Object.entries(p['dist-tags'] ?? {}).map(([tag, tv]) => `${tag}: ${tv}`).join(', ')],
              ['Shown version', shownVersion],
              ['License', v?.license],
              ['Tarball size', tarball.data?.size !== undefined ? formatSize(Number(tarball.data.size)) : undefined],
              ['Unpacked size', v?.dist?.unpackedSize !== undefined ? `${formatSize(v.dist.unpackedSize)}${v.dist.fileCount ? ` in ${v.dist.fileCount} files` : ''}` : undefined],
              ['Integrity', v?.dist?.integrity && <code>{v.dist.integrity}</code>],
            ]}
          />
          <InstallCommand testId="npm-install" command={`npm install ${name}@${shownVersion ?? ''}`} />
          <h3>Versions</h3>
          <VersionsTable
            testId="npm-versions"
            onPick={setPicked}
            rows={Object.values(p.versions ?? {}).map((x) => ({ version: x.version, date: p.time?.[x.version], size: x.dist?.unpackedSize, note: x.deprecated ? `deprecated: ${x.deprecated}` : undefined }))}
          />
          <Dependencies id="npm" title={`Dependencies of ${shownVersion ?? ''}`} deps={deps} />
          <Readme id="npm" text={p.readme} />
        </>
      )}
    </PackageCard>
  );
}

/** The repository Browse shows (`/browse/{repo}/…`), for panels that are given only a path's facts. */
function useBrowsedRepo(): string | undefined {
  const m = /^\/browse\/([^/]+)/.exec(useRoute().path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

export function MavenPanel({ c, repo }: { c: MavenCoordinates; repo?: string }) {
  const browsed = useBrowsedRepo();
  const key = repo ?? browsed;
  const dep = `<dependency>
  <groupId>${c.groupId}</groupId>
  <artifactId>${c.artifactId}</artifactId>
  <version>${c.version}</version>${c.classifier ? `\n  <classifier>${c.classifier}</classifier>` : ''}${c.extension !== 'jar' && c.extension !== 'pom' ? `\n  <type>${c.extension}</type>` : ''}
</dependency>`;
  return (
    <section className="card" aria-labelledby="maven-title">
      <h2 id="maven-title">Maven coordinates</h2>
      <dl className="props">
        <dt>Group ID</dt>
        <dd>{c.groupId}</dd>
        <dt>Artifact ID</dt>
        <dd>{c.artifactId}</dd>
        <dt>Version</dt>
        <dd>{c.version}</dd>
        {c.classifier && (
          <>
            <dt>Classifier</dt>
            <dd>{c.classifier}</dd>
          </>
        )}
        <dt>Type</dt>
        <dd>{c.extension}</dd>
      </dl>
      <InstallCommand testId="maven-dependency" label="Dependency" command={dep} />
      <p>
        Gradle: <Copyable text={`implementation("${c.groupId}:${c.artifactId}:${c.version}${c.classifier ? `:${c.classifier}` : ''}")`} label="Copy the Gradle dependency" />
      </p>
      {key && (
        <p>
          <Link to={`/packages/maven/${encodeURIComponent(key)}/${encodeURIComponent(`${c.groupId}:${c.artifactId}`)}?version=${encodeURIComponent(c.version)}`}>All versions and dependencies of {c.artifactId}</Link>
        </p>
      )}
    </section>
  );
}
