import { api, ApiError, artifactUrl } from '../api';
import { useAsync } from './hooks';
import { ArchiveReadme, ChartReadme } from './packages/chart-readme';
import { useRepoClass } from './packages/repo-base';
import { Dependencies, Facts, InstallCommand, PackageCard, sortVersionsDesc, VersionsTable } from './packages/parts';

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

export { VersionsTable, type VersionRow } from './packages/parts';

const repoUrl = (format: string, repo: string) => `/artifactory/api/${format}/${encodeURIComponent(repo)}`;

/** The `require` lines of a go.mod: module and version, `// indirect` noted. */
export function goModRequires(mod: string): Array<{ name: string; req: string; note?: string }> {
  const out: Array<{ name: string; req: string; note?: string }> = [];
  const line = (l: string) => {
    const m = /^\s*([^\s()]+)\s+([^\s()]+)\s*(\/\/\s*indirect)?/.exec(l);
    if (m && !m[1].startsWith('//')) out.push({ name: m[1], req: m[2], note: m[3] ? 'indirect' : undefined });
  };
  let block = false;
  for (const raw of mod.split('\n')) {
    const l = raw.trim();
    if (block) {
      if (l.startsWith(')')) block = false;
      else line(l);
    } else if (/^require\s*\($/.test(l)) block = true;
    else if (l.startsWith('require ')) line(l.slice('require '.length));
  }
  return out;
}

export function GoModulePanel({ repo, module, version }: { repo: string; module: string; version: string }) {
  const list = useAsync((signal) => api<string>(`${repoUrl('go', repo)}/${module}/@v/list`, { signal }), `${repo}/${module}`);
  const mod = useAsync((signal) => (version ? api<string>(`${repoUrl('go', repo)}/${module}/@v/${version}.mod`, { signal }) : Promise.resolve('')), `${repo}/${module}@${version}`);
  const rows = typeof list.data === 'string' ? list.data.split('\n').filter(Boolean).map((v) => ({ version: unescapeGo(v) })) : undefined;
  return (
    <PackageCard id="go" title={`Go module ${unescapeGo(module)}`} error={list.error} loading={list.loading && !list.data}>
      {rows && <VersionsTable testId="go-versions" rows={rows} />}
      <InstallCommand testId="go-install" command={version ? `go get ${unescapeGo(module)}@${unescapeGo(version)}` : `go get ${unescapeGo(module)}`} />
      {typeof mod.data === 'string' && mod.data && <Dependencies id="go" title={`Requirements of ${unescapeGo(version)} (go.mod)`} deps={goModRequires(mod.data)} />}
    </PackageCard>
  );
}

interface CrateVersion {
  vers: string;
  yanked?: boolean;
  cksum?: string;
  deps?: Array<{ name: string; req: string; kind?: string; optional?: boolean; package?: string }>;
}

export function CratePanel({ repo, name, version }: { repo: string; name: string; version: string }) {
  const index = useAsync((signal) => api<string>(`${repoUrl('cargo', repo)}/index/${crateIndexPath(name)}`, { signal }), `${repo}/${name}`);
  const versions = typeof index.data === 'string' ? index.data.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CrateVersion) : undefined;
  const shown = versions?.find((v) => v.vers === version) ?? (versions ? sortVersionsDesc(versions.map((v) => ({ ...v, version: v.vers })))[0] : undefined);
  const lower = name.toLowerCase();
  // A local repository keeps each version's record (its description) beside the crate (others would answer 404s).
  const local = useRepoClass(repo) === 'LOCAL';
  const record = useAsync<{ description?: string }>(
    (signal) =>
      shown && local
        ? api<unknown>(artifactUrl(repo, `.cargo/${lower}/${shown.vers}.json`), { signal })
            .then((r) => (typeof r === 'string' ? JSON.parse(r) : r) as { description?: string })
            .catch((err) => (err instanceof ApiError || err instanceof SyntaxError ? {} : Promise.reject(err)))
        : Promise.resolve({}),
    `${repo}/${lower}/${shown?.vers}/${local}`,
  );
  return (
    <PackageCard id="cargo" title={`Crate ${name}`} error={index.error} loading={index.loading && !index.data}>
      {record.data?.description && <p>{record.data.description}</p>}
      {versions && <VersionsTable testId="cargo-versions" rows={versions.map((v) => ({ version: v.vers, note: v.yanked ? 'yanked' : undefined }))} />}
      <InstallCommand testId="cargo-install" command={`cargo add ${name}@${shown?.vers ?? version} --registry ${repo}`} />
      {shown && <Facts items={[['Checksum (SHA-256)', shown.cksum && <code>{shown.cksum}</code>]]} />}
      {shown && local && <ArchiveReadme id="cargo" url={artifactUrl(repo, `crates/${lower}/${lower}-${shown.vers}.crate`)} />}
      {shown && <Dependencies id="cargo" title={`Dependencies of ${shown.vers}`} deps={(shown.deps ?? []).map((d) => ({ name: d.package ?? d.name, req: d.req, note: [d.kind && d.kind !== 'normal' ? d.kind : '', d.optional ? 'optional' : ''].filter(Boolean).join(', ') || undefined }))} />}
    </PackageCard>
  );
}

/** One line of the RubyGems compact index (`1.0.0 dep:>= 1,other:~> 2|checksum:…`): version and dependencies. */
export function gemInfoLine(line: string): { version: string; deps: Array<{ name: string; req: string }> } {
  const [head] = line.split('|');
  const sp = head.indexOf(' ');
  const version = sp < 0 ? head : head.slice(0, sp);
  const deps = sp < 0 ? [] : head.slice(sp + 1).split(',').filter(Boolean).map((d) => {
    const c = d.indexOf(':');
    return { name: c < 0 ? d : d.slice(0, c), req: c < 0 ? '' : d.slice(c + 1).replace(/&/g, ', ') };
  });
  return { version, deps };
}

/** A gem by name: versions and dependencies from the compact index. */
export function GemView({ repo, name, version }: { repo: string; name: string; version?: string }) {
  const info = useAsync((signal) => api<string>(`${repoUrl('gems', repo)}/info/${encodeURIComponent(name)}`, { signal }), `${repo}/${name}`);
  const lines = typeof info.data === 'string' ? info.data.split('\n').filter((l) => l && l !== '---').map(gemInfoLine) : undefined;
  const shown = lines?.find((l) => l.version === version) ?? (lines ? sortVersionsDesc(lines)[0] : undefined);
  const plain = (shown?.version ?? version ?? '').replace(/-(?=[a-z])[^-]*(?:-.*)?$/i, '');
  return (
    <PackageCard id="gems" title={`Gem ${name}`} error={info.error} loading={info.loading && !info.data}>
      {lines && <VersionsTable testId="gems-versions" rows={lines.map((l) => ({ version: l.version }))} />}
      <InstallCommand testId="gems-install" command={plain ? `gem install ${name} -v ${plain}` : `gem install ${name}`} />
      {shown && <Dependencies id="gems" title={`Dependencies of ${shown.version}`} deps={shown.deps} />}
    </PackageCard>
  );
}

export function GemPanel({ repo, path }: { repo: string; path: string }) {
  const candidates = gemFileCandidates(path);
  // The name is the candidate the compact index knows (a gem name may itself hold "-1").
  const found = useAsync(async (signal) => {
    for (const c of candidates) {
      try {
        await api<string>(`${repoUrl('gems', repo)}/info/${encodeURIComponent(c.name)}`, { signal });
        return c;
      } catch {
        // the next reading
      }
    }
    return candidates[0];
  }, `${repo}/${path}`);
  if (!found.data) return null;
  return <GemView repo={repo} name={found.data.name} version={found.data.version} />;
}

interface ChartVersion {
  version: string;
  appVersion?: string;
  created?: string;
  description?: string;
  home?: string;
  urls?: string[];
  digest?: string;
  dependencies?: Array<{ name: string; version?: string; repository?: string }>;
}

export function ChartPanel({ repo, name, version }: { repo: string; name: string; version: string }) {
  const charts = useAsync((signal) => api<ChartVersion[]>(`${repoUrl('helm', repo)}/api/charts/${encodeURIComponent(name)}`, { signal }), `${repo}/${name}`);
  const list = Array.isArray(charts.data) ? charts.data : undefined;
  const shown = list?.find((c) => c.version === version) ?? list?.[0];
  const url = shown?.urls?.[0];
  return (
    <PackageCard id="helm" title={`Chart ${name}`} error={charts.error} loading={charts.loading && !charts.data}>
      {shown && <Facts items={[['Description', shown.description], ['App version', shown.appVersion], ['Home', shown.home], ['Digest', shown.digest && <code>{shown.digest}</code>]]} />}
      {list && <VersionsTable testId="helm-versions" rows={list.map((c) => ({ version: c.version, date: c.created, note: c.appVersion ? `app ${c.appVersion}` : undefined }))} />}
      <InstallCommand testId="helm-install" command={`helm install my-release ${repo}/${name} --version ${shown?.version ?? version}`} />
      {shown && <Dependencies id="helm" title={`Dependencies of ${shown.version}`} deps={(shown.dependencies ?? []).map((d) => ({ name: d.name, req: d.version, note: d.repository }))} />}
      {shown && url && <ChartReadme repo={repo} url={url} />}
    </PackageCard>
  );
}

/** An RPM file name (`{name}-{version}-{release}.{arch}.rpm`, the name may hold dashes): its parts. */
export function rpmFileOf(path: string): { name: string; version: string; release: string; arch: string } | undefined {
  const m = /(?:^|\/)([^/]+)-([^/-]+)-([^/-]+)\.([^/.]+)\.rpm$/.exec(path);
  return m ? { name: m[1], version: m[2], release: m[3], arch: m[4] } : undefined;
}

interface PropHit {
  uri: string;
  created?: string;
  size?: string;
  properties?: Record<string, string[]>;
}

/** Items of `repo` with property `key` = `value`, with their properties and dates (`X-Result-Detail`), newest first. */
async function withProperty(repo: string, key: string, value: string, signal: AbortSignal): Promise<PropHit[]> {
  const q = new URLSearchParams({ [key]: value, repos: repo });
  const r = await api<{ results?: PropHit[] }>(`/artifactory/api/search/prop?${q}`, { signal, headers: { 'x-result-detail': 'info, properties' } });
  return (r.results ?? []).sort((a, b) => Date.parse(b.created ?? '') - Date.parse(a.created ?? ''));
}

/** A Debian package by name: its versions in the repository (by the `deb.*` properties set on deploy), where each is listed, and the apt command. */
export function DebianView({ repo, name, version }: { repo: string; name: string; version?: string }) {
  const found = useAsync((signal) => withProperty(repo, 'deb.name', name, signal), `${repo}/${name}`);
  const rows = found.data?.map((h) => {
    const p = h.properties ?? {};
    const where = `${(p['deb.distribution'] ?? []).join(', ')} / ${(p['deb.component'] ?? []).join(', ')}`;
    return { version: p['deb.version']?.[0] ?? '?', date: h.created, size: h.size === undefined ? undefined : Number(h.size), note: `${(p['deb.architecture'] ?? []).join(', ')} · ${where}` };
  });
  const shown = version ?? (rows ? sortVersionsDesc(rows)[0]?.version : undefined);
  return (
    <PackageCard id="debian" title={`Debian package ${name}`} error={found.error} loading={found.loading && !found.data}>
      {rows && <VersionsTable testId="debian-versions" rows={rows} />}
      <InstallCommand testId="debian-install" command={shown ? `sudo apt-get install ${name}=${shown}` : `sudo apt-get install ${name}`} />
    </PackageCard>
  );
}

/** A Debian package file: the package its `deb.name` property names. */
export function DebianPackagePanel({ repo, path }: { repo: string; path: string }) {
  const self = useAsync(async (signal) => {
    const props = (await api<{ properties?: Record<string, string[]> }>(`/artifactory/api/storage/${encodeURIComponent(repo)}/${path.split('/').map(encodeURIComponent).join('/')}?properties`, { signal })).properties ?? {};
    const name = props['deb.name']?.[0];
    if (!name) throw new Error('This file has no deb.name property: it is not a listed Debian package');
    return { name, version: props['deb.version']?.[0] };
  }, `${repo}/${path}`);
  if (self.error) return <PackageCard id="debian" title="Debian package" error={self.error} />;
  return self.data ? <DebianView repo={repo} name={self.data.name} version={self.data.version} /> : null;
}

/** An RPM package: the builds of the same name in the repository (by file name), and the dnf command. */
export function RpmPackagePanel({ repo, name, version, release, arch }: { repo: string; name: string; version?: string; release?: string; arch?: string }) {
  const found = useAsync(async (signal) => {
    const q = new URLSearchParams({ name: `${name}-*.rpm`, repos: repo });
    return (await api<{ results?: { uri: string; size?: string; created?: string }[] }>(`/artifactory/api/search/artifact?${q}`, { signal, headers: { 'x-result-detail': 'info' } })).results ?? [];
  }, `${repo}/${name}`);
  const rows = found.data
    ?.map((r) => ({ f: rpmFileOf(decodeURIComponent(r.uri)), r }))
    .filter((x): x is { f: NonNullable<ReturnType<typeof rpmFileOf>>; r: { uri: string; size?: string; created?: string } } => x.f !== undefined && x.f.name === name)
    .map(({ f, r }) => ({ version: `${f.version}-${f.release}`, note: f.arch, date: r.created, size: r.size === undefined ? undefined : Number(r.size) }));
  const command = version ? `sudo dnf install ${name}-${version}${release ? `-${release}` : ''}${arch ? `.${arch}` : ''}` : `sudo dnf install ${name}`;
  return (
    <PackageCard id="rpm" title={`RPM package ${name}`} error={found.error} loading={found.loading && !found.data}>
      {rows && <VersionsTable testId="rpm-versions" rows={rows} />}
      <InstallCommand testId="rpm-install" command={command} />
    </PackageCard>
  );
}
