import { api } from '../api';
import { ErrorBox, formatDate } from './common';
import { useAsync } from './hooks';

/** A Go module version file (`{escaped module}/@v/{escaped version}.zip|mod|info`): its module and version, escaped as stored. */
export function goFileOf(path: string): { module: string; version: string } | undefined {
  const m = /^(.+)\/@v\/([^/]+)\.(zip|mod|info)$/.exec(path);
  return m ? { module: m[1], version: m[2] } : undefined;
}

/** The GOPROXY case escaping undone (`!a` is `A`). */
export function unescapeGo(s: string): string {
  return s.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A crate file (`crates/{name}/{name}-{version}.crate`): its name and version. */
export function crateFileOf(path: string): { name: string; version: string } | undefined {
  const m = /^crates\/([^/]+)\/([^/]+)\.crate$/.exec(path);
  if (!m || !m[2].startsWith(`${m[1]}-`)) return undefined;
  return { name: m[1], version: m[2].slice(m[1].length + 1) };
}

/** The sparse index file of a crate (the protocol's prefix layout). */
export function crateIndexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** The ways to read a gem file (`gems/{name}-{version}[-{platform}].gem`) as name and version: a version starts with a digit after a `-`. */
export function gemFileCandidates(path: string): { name: string; version: string }[] {
  const m = /^gems\/([^/]+)\.gem$/.exec(path);
  if (!m) return [];
  const full = m[1];
  const out: { name: string; version: string }[] = [];
  for (let i = full.indexOf('-'); i > 0; i = full.indexOf('-', i + 1)) {
    const rest = full.slice(i + 1);
    if (/^[0-9]/.test(rest)) out.push({ name: full.slice(0, i), version: rest });
  }
  return out;
}

/** A chart archive (`…/{name}-{semver}.tgz`): its name and version. */
export function chartFileOf(path: string): { name: string; version: string } | undefined {
  const m = /(?:^|\/)([^/]+?)-(v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\.tgz$/.exec(path);
  return m ? { name: m[1], version: m[2] } : undefined;
}

export interface VersionRow {
  version: string;
  note?: string;
  date?: string;
}

/** A package's versions, newest first as given: version, publication date, a note (deprecated, yanked…). */
export function VersionsTable({ testId, rows }: { testId: string; rows: VersionRow[] }) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Published</th>
          <th scope="col">Note</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.version}|${r.note ?? ''}`}>
            <td>{r.version}</td>
            <td>{r.date ? formatDate(r.date) : ''}</td>
            <td>{r.note ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The versions of one package and the client command that installs the one shown. */
function VersionsCard({ id, title, error, rows, command }: { id: string; title: string; error?: Error; rows?: VersionRow[]; command: string }) {
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <ErrorBox error={error} />
      {rows && <VersionsTable testId={`${id}-versions`} rows={rows} />}
      <pre>{command}</pre>
    </section>
  );
}

const repoUrl = (format: string, repo: string) => `/artifactory/api/${format}/${encodeURIComponent(repo)}`;

export function GoModulePanel({ repo, module, version }: { repo: string; module: string; version: string }) {
  const list = useAsync((signal) => api<string>(`${repoUrl('go', repo)}/${module}/@v/list`, { signal }), `${repo}/${module}`);
  const rows = typeof list.data === 'string' ? list.data.split('\n').filter(Boolean).reverse().map((v) => ({ version: unescapeGo(v) })) : undefined;
  return <VersionsCard id="go" title={`Go module ${unescapeGo(module)}`} error={list.error} rows={rows} command={`go get ${unescapeGo(module)}@${unescapeGo(version)}`} />;
}

export function CratePanel({ repo, name, version }: { repo: string; name: string; version: string }) {
  const index = useAsync((signal) => api<string>(`${repoUrl('cargo', repo)}/index/${crateIndexPath(name)}`, { signal }), `${repo}/${name}`);
  const lines = typeof index.data === 'string' ? index.data.split('\n').filter(Boolean) : [];
  const rows = index.data === undefined ? undefined : lines.map((l) => JSON.parse(l) as { vers: string; yanked?: boolean }).reverse().map((v) => ({ version: v.vers, note: v.yanked ? 'yanked' : undefined }));
  return <VersionsCard id="cargo" title={`Crate ${name}`} error={index.error} rows={rows} command={`cargo add ${name}@${version} --registry ${repo}`} />;
}

export function GemPanel({ repo, path }: { repo: string; path: string }) {
  const candidates = gemFileCandidates(path);
  // The name is the candidate the compact index knows (a gem name may itself hold "-1").
  const info = useAsync(async (signal) => {
    let last: unknown;
    for (const c of candidates) {
      try {
        return { ...c, text: await api<string>(`${repoUrl('gems', repo)}/info/${encodeURIComponent(c.name)}`, { signal }) };
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new Error('Not a gem file name');
  }, `${repo}/${path}`);
  const d = info.data;
  const rows = d ? String(d.text).split('\n').filter((l) => l && l !== '---').map((l) => ({ version: l.split(' ')[0] })).reverse() : undefined;
  const name = d?.name ?? candidates[0]?.name ?? '';
  const version = (d?.version ?? candidates[0]?.version ?? '').replace(/-(?=[a-z])[^-]*(?:-.*)?$/i, '');
  return <VersionsCard id="gems" title={`Gem ${name}`} error={info.error} rows={rows} command={`gem install ${name} -v ${version}`} />;
}

export function ChartPanel({ repo, name, version }: { repo: string; name: string; version: string }) {
  const charts = useAsync((signal) => api<{ version: string; appVersion?: string; created?: string }[]>(`${repoUrl('helm', repo)}/api/charts/${encodeURIComponent(name)}`, { signal }), `${repo}/${name}`);
  const rows = Array.isArray(charts.data) ? charts.data.map((c) => ({ version: c.version, date: c.created, note: c.appVersion ? `app ${c.appVersion}` : undefined })) : undefined;
  return <VersionsCard id="helm" title={`Chart ${name}`} error={charts.error} rows={rows} command={`helm install my-release ${repo}/${name} --version ${version}`} />;
}

/** An RPM file name (`{name}-{version}-{release}.{arch}.rpm`, the name may hold dashes): its parts. */
export function rpmFileOf(path: string): { name: string; version: string; release: string; arch: string } | undefined {
  const m = /(?:^|\/)([^/]+)-([^/-]+)-([^/-]+)\.([^/.]+)\.rpm$/.exec(path);
  return m ? { name: m[1], version: m[2], release: m[3], arch: m[4] } : undefined;
}

interface PropHit {
  uri: string;
  created?: string;
  properties?: Record<string, string[]>;
}

/** Items of `repo` with property `key` = `value`, with their properties and dates (`X-Result-Detail`), newest first. */
async function withProperty(repo: string, key: string, value: string, signal: AbortSignal): Promise<PropHit[]> {
  const q = new URLSearchParams({ [key]: value, repos: repo });
  const r = await api<{ results?: PropHit[] }>(`/artifactory/api/search/prop?${q}`, { signal, headers: { 'x-result-detail': 'info, properties' } });
  return (r.results ?? []).sort((a, b) => Date.parse(b.created ?? '') - Date.parse(a.created ?? ''));
}

/** A Debian package: its versions in the repository (by the `deb.*` properties set on deploy), where each is listed, and the apt command. */
export function DebianPackagePanel({ repo, path }: { repo: string; path: string }) {
  const found = useAsync(async (signal) => {
    const self = (await api<{ properties?: Record<string, string[]> }>(`/artifactory/api/storage/${encodeURIComponent(repo)}/${path.split('/').map(encodeURIComponent).join('/')}?properties`, { signal })).properties ?? {};
    const name = self['deb.name']?.[0];
    if (!name) throw new Error('This file has no deb.name property: it is not a listed Debian package');
    return { name, version: self['deb.version']?.[0] ?? '', hits: await withProperty(repo, 'deb.name', name, signal) };
  }, `${repo}/${path}`);
  const d = found.data;
  const rows = d?.hits.map((h) => {
    const p = h.properties ?? {};
    const where = `${(p['deb.distribution'] ?? []).join(', ')} / ${(p['deb.component'] ?? []).join(', ')}`;
    return { version: p['deb.version']?.[0] ?? '?', date: h.created, note: `${(p['deb.architecture'] ?? []).join(', ')} · ${where}` };
  });
  return <VersionsCard id="debian" title={`Debian package ${d?.name ?? ''}`} error={found.error} rows={rows} command={d ? `sudo apt-get install ${d.name}=${d.version}` : ''} />;
}

/** An RPM package: the builds of the same name in the repository (by file name), and the dnf command. */
export function RpmPackagePanel({ repo, name, version, release, arch }: { repo: string; name: string; version: string; release: string; arch: string }) {
  const found = useAsync(async (signal) => {
    const q = new URLSearchParams({ name: `${name}-*.rpm`, repos: repo });
    return (await api<{ results?: { uri: string }[] }>(`/artifactory/api/search/artifact?${q}`, { signal })).results ?? [];
  }, `${repo}/${name}`);
  const rows = found.data
    ?.map((r) => rpmFileOf(decodeURIComponent(r.uri)))
    .filter((f): f is NonNullable<typeof f> => f !== undefined && f.name === name)
    .map((f) => ({ version: `${f.version}-${f.release}`, note: f.arch }));
  return <VersionsCard id="rpm" title={`RPM package ${name}`} error={found.error} rows={rows} command={`sudo dnf install ${name}-${version}-${release}.${arch}`} />;
}
