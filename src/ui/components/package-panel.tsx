import { api } from '../api';
import { ErrorBox } from './common';
import { VersionsTable } from './format-panels';
import { useAsync } from './hooks';

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

interface Packument {
  name: string;
  description?: string;
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, { version: string; deprecated?: string; dist?: { tarball?: string } }>;
  time?: Record<string, string>;
}

function escapeNpmName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

export function NpmPackagePanel({ repo, name }: { repo: string; name: string }) {
  const doc = useAsync((signal) => api<Packument>(`/artifactory/api/npm/${encodeURIComponent(repo)}/${escapeNpmName(name)}`, { signal }), `${repo}/${name}`);
  const p = doc.data;
  return (
    <section className="card" aria-labelledby="npm-title">
      <h2 id="npm-title">npm package {name}</h2>
      <ErrorBox error={doc.error} />
      {p && (
        <>
          {p.description && <p>{p.description}</p>}
          <h3>Dist-tags</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(p['dist-tags'] ?? {}).map(([tag, v]) => (
                <tr key={tag}>
                  <td>{tag}</td>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Versions</h3>
          <VersionsTable
            testId="npm-versions"
            rows={Object.values(p.versions ?? {})
              .reverse()
              .map((v) => ({ version: v.version, date: p.time?.[v.version], note: v.deprecated ? `deprecated: ${v.deprecated}` : undefined }))}
          />
          <pre>{`npm install ${name}@${p['dist-tags']?.latest ?? ''}`}</pre>
        </>
      )}
    </section>
  );
}

export function MavenPanel({ c }: { c: MavenCoordinates }) {
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
      <pre>{dep}</pre>
    </section>
  );
}
