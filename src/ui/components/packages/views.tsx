import { useState } from 'react';
import { api, ApiError, artifactUrl, storageUrl } from '../../api';
import { formatSize } from '../common';
import { Copyable } from '../copy-button';
import { useAsync } from '../hooks';
import { naturalCompare } from '../natural';
import { Dependencies, Facts, InstallCommand, PackageCard, Readme, VersionsTable } from './parts';

interface FileList {
  files: Array<{ uri: string; size: number; folder: boolean; lastModified?: string }>;
}

/** The `<versions>` of a maven-metadata.xml, newest first. */
export function mavenMetadataVersions(xml: string): string[] {
  const block = /<versions>([\s\S]*?)<\/versions>/.exec(xml)?.[1] ?? '';
  return [...new Set([...block.matchAll(/<version>\s*([^<\s]+)\s*<\/version>/g)].map((m) => m[1]))].sort((a, b) => naturalCompare(b, a));
}

export interface PomFacts {
  name?: string;
  description?: string;
  url?: string;
  packaging?: string;
  deps: Array<{ name: string; req?: string; note?: string }>;
}

/** Name, description and dependencies of a POM (its own `<dependencies>`, not dependencyManagement's). */
export function pomFacts(xml: string): PomFacts {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const project = doc.documentElement;
  const child = (el: Element | null | undefined, tag: string) => (el ? [...el.children].find((c) => c.localName === tag) : undefined);
  const text = (el: Element | null | undefined, tag: string) => child(el, tag)?.textContent?.trim() || undefined;
  const deps = [...(child(project, 'dependencies')?.children ?? [])]
    .filter((d) => d.localName === 'dependency')
    .map((d) => ({ name: `${text(d, 'groupId') ?? '?'}:${text(d, 'artifactId') ?? '?'}`, req: text(d, 'version'), note: [text(d, 'scope'), text(d, 'optional') === 'true' ? 'optional' : ''].filter(Boolean).join(', ') || undefined }));
  return { name: text(project, 'name'), description: text(project, 'description'), url: text(project, 'url'), packaging: text(project, 'packaging'), deps };
}

async function maybe<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** A Maven artifact: its versions (maven-metadata.xml, else the folders), a version's files with sizes, its POM's dependencies and the `<dependency>` block. */
export function MavenView({ repo, groupId, artifactId, version }: { repo: string; groupId: string; artifactId: string; version?: string }) {
  const dir = `${groupId.replace(/\./g, '/')}/${artifactId}`;
  const versions = useAsync(async (signal) => {
    const xml = await maybe(api<string>(artifactUrl(repo, `${dir}/maven-metadata.xml`), { signal, headers: { accept: 'application/xml, text/xml, */*' } }));
    const vs = new Set(typeof xml === 'string' ? mavenMetadataVersions(xml) : []);
    if (vs.size === 0) {
      const list = await api<FileList>(`${storageUrl(repo, dir)}?list&deep=0`, { signal });
      for (const f of list.files) if (f.folder) vs.add(f.uri.replace(/^\//, ''));
    }
    return [...vs].sort((a, b) => naturalCompare(b, a));
  }, `${repo}/${dir}`);
  const [picked, setPicked] = useState<string>();
  const shown = picked ?? version ?? versions.data?.[0];
  const files = useAsync((signal) => (shown ? api<FileList>(`${storageUrl(repo, `${dir}/${shown}`)}?list&deep=0`, { signal }) : Promise.resolve({ files: [] })), `${repo}/${dir}/${shown}`);
  const pomFile = files.data?.files.filter((f) => !f.folder && f.uri.endsWith('.pom')).map((f) => f.uri.replace(/^\//, '')).sort().pop();
  const pom = useAsync((signal) => (pomFile ? api<string>(artifactUrl(repo, `${dir}/${shown}/${pomFile}`), { signal, headers: { accept: 'application/xml, */*' } }).then((x) => pomFacts(String(x))) : Promise.resolve(undefined)), `${repo}/${dir}/${shown}/${pomFile}`);
  const main = files.data?.files.filter((f) => !f.folder && /\.(jar|war|aar|ear|zip|pom)$/.test(f.uri));
  const dep = `<dependency>\n  <groupId>${groupId}</groupId>\n  <artifactId>${artifactId}</artifactId>\n  <version>${shown ?? ''}</version>${pom.data?.packaging && !['jar', 'bundle', 'pom'].includes(pom.data.packaging) ? `\n  <type>${pom.data.packaging}</type>` : ''}\n</dependency>`;
  return (
    <PackageCard id="maven" title={`Maven artifact ${groupId}:${artifactId}`} error={versions.error ?? files.error ?? pom.error} loading={versions.loading && !versions.data}>
      <Facts
        items={[
          ['Name', pom.data?.name],
          ['Description', pom.data?.description],
          ['Project URL', pom.data?.url],
          ['Shown version', shown],
          ['Files', main && main.length > 0 ? main.map((f) => `${f.uri.replace(/^\//, '')} (${formatSize(f.size)})`).join(', ') : undefined],
        ]}
      />
      <InstallCommand testId="maven-dependency" label="Dependency" command={shown ? dep : ''} />
      {shown && (
        <p>
          Gradle: <Copyable text={`implementation("${groupId}:${artifactId}:${shown}")`} label="Copy the Gradle dependency" />
        </p>
      )}
      {versions.data && <VersionsTable testId="maven-versions" rows={versions.data.map((v) => ({ version: v }))} onPick={setPicked} />}
      {pom.data && <Dependencies id="maven" title={`Dependencies of ${shown}`} deps={pom.data.deps} />}
    </PackageCard>
  );
}

interface SimpleFile {
  filename: string;
  url: string;
  size?: number;
  'upload-time'?: string;
  'requires-python'?: string;
  'core-metadata'?: unknown;
  hashes?: Record<string, string>;
}

/** PEP 503 normalisation. */
export const normalizePypi = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The version in a distribution file name (wheel `name-ver-…whl`, sdist `name-ver.tar.gz`). */
export function pypiFileVersion(filename: string): string | undefined {
  if (filename.endsWith('.whl')) return filename.split('-')[1];
  const m = /^(.+)-([^-]+?)(\.tar\.gz|\.zip|\.tar\.bz2|\.tgz)$/.exec(filename);
  return m?.[2];
}

/** Core metadata (RFC 822 headers, then the description as the body). */
export function parseCoreMetadata(text: string): { headers: Array<[string, string]>; body: string } {
  const norm = text.replace(/\r\n/g, '\n');
  const cut = norm.indexOf('\n\n');
  const head = cut < 0 ? norm : norm.slice(0, cut);
  const headers: Array<[string, string]> = [];
  for (const line of head.split('\n')) {
    if (/^\s/.test(line) && headers.length > 0) headers[headers.length - 1][1] += `\n${line.trim()}`;
    else {
      const c = line.indexOf(':');
      if (c > 0) headers.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
    }
  }
  return { headers, body: cut < 0 ? '' : norm.slice(cut + 2) };
}

/** A PyPI project: its files by version with sizes (the PEP 691 JSON page), summary, requirements and description from the core metadata. */
export function PypiView({ repo, project, version }: { repo: string; project: string; version?: string }) {
  const pageUrl = `/artifactory/api/pypi/${encodeURIComponent(repo)}/simple/${encodeURIComponent(normalizePypi(project))}/`;
  const page = useAsync((signal) => api<{ name?: string; files: SimpleFile[] }>(pageUrl, { signal, headers: { accept: 'application/vnd.pypi.simple.v1+json' } }), pageUrl);
  const [picked, setPicked] = useState<string>();
  const files = page.data?.files ?? [];
  const byVersion = new Map<string, SimpleFile[]>();
  for (const f of files) {
    const v = pypiFileVersion(f.filename) ?? '?';
    byVersion.set(v, [...(byVersion.get(v) ?? []), f]);
  }
  const versions = [...byVersion.keys()].sort((a, b) => naturalCompare(b, a));
  const shown = picked ?? (version && byVersion.has(version) ? version : versions[0]);
  const withMeta = (byVersion.get(shown ?? '') ?? []).find((f) => f['core-metadata']);
  const metaUrl = withMeta ? new URL(`${withMeta.url.split('#')[0]}.metadata`, new URL(pageUrl, window.location.origin)).pathname : undefined;
  const meta = useAsync((signal) => (metaUrl ? api<string>(metaUrl, { signal, headers: { accept: 'text/plain, */*' } }).then((t) => parseCoreMetadata(String(t))) : Promise.resolve(undefined)), metaUrl ?? '');
  const header = (k: string) => meta.data?.headers.find(([h]) => h.toLowerCase() === k.toLowerCase())?.[1];
  const description = meta.data ? meta.data.body || header('Description') : undefined;
  const requires = meta.data?.headers.filter(([h]) => h.toLowerCase() === 'requires-dist').map(([, v]) => {
    const [spec, marker] = v.split(';');
    const m = /^([A-Za-z0-9._-]+)\s*(\[[^\]]*\])?\s*(.*)$/.exec(spec.trim());
    return { name: m ? `${m[1]}${m[2] ?? ''}` : spec.trim(), req: m?.[3] || undefined, note: marker?.trim() };
  });
  return (
    <PackageCard id="pypi" title={`PyPI project ${page.data?.name ?? project}`} error={page.error ?? meta.error} loading={page.loading && !page.data}>
      <Facts items={[['Summary', header('Summary')], ['Shown version', shown], ['Requires Python', header('Requires-Python')], ['License', header('License')]]} />
      <InstallCommand testId="pypi-install" command={`pip install ${project}${shown ? `==${shown}` : ''}`} />
      {page.data && (
        <VersionsTable
          testId="pypi-versions"
          onPick={setPicked}
          rows={versions.map((v) => {
            const fs = byVersion.get(v) ?? [];
            return { version: v, date: fs.map((f) => f['upload-time']).filter(Boolean).sort()[0], size: fs.reduce((n, f) => n + (f.size ?? 0), 0), note: fs.map((f) => f.filename).join(', ') };
          })}
        />
      )}
      {requires && <Dependencies id="pypi" title={`Requirements of ${shown}`} deps={requires} />}
      <Readme id="pypi" text={description} />
    </PackageCard>
  );
}
