/**
 * Package search over AQL: the files that make a package version in each format (an npm
 * tarball, a POM, a wheel…), read back as package name and version. Pure (tested).
 */
import { manifestRef } from '../docker-panel';
import { chartFileOf, crateFileOf, gemFileCandidates, goFileOf, rpmFileOf, unescapeGo } from '../format-panels';
import { mavenCoordinatesOf, npmPackageOf } from '../package-panel';

export type Format = 'npm' | 'maven' | 'pypi' | 'docker' | 'go' | 'cargo' | 'gems' | 'helm' | 'debian' | 'rpm';

export const FORMATS: Record<Format, { label: string; types: string[]; files: string[] }> = {
  npm: { label: 'npm', types: ['npm'], files: ['*.tgz'] },
  maven: { label: 'Maven', types: ['maven', 'gradle'], files: ['*.pom'] },
  pypi: { label: 'PyPI', types: ['pypi'], files: ['*.whl', '*.tar.gz', '*.zip'] },
  docker: { label: 'Docker', types: ['docker', 'oci'], files: ['manifest.json', 'list.manifest.json'] },
  go: { label: 'Go', types: ['go'], files: ['*.zip'] },
  cargo: { label: 'Cargo', types: ['cargo'], files: ['*.crate'] },
  gems: { label: 'RubyGems', types: ['gems'], files: ['*.gem'] },
  helm: { label: 'Helm', types: ['helm'], files: ['*.tgz'] },
  debian: { label: 'Debian', types: ['debian'], files: ['*.deb'] },
  rpm: { label: 'RPM', types: ['rpm', 'yum'], files: ['*.rpm'] },
};

export const FORMAT_KEYS = Object.keys(FORMATS) as Format[];

export function formatOfType(packageType: string): Format | undefined {
  const t = packageType.toLowerCase();
  return FORMAT_KEYS.find((f) => FORMATS[f].types.includes(t));
}

export interface AqlItem {
  repo: string;
  path: string;
  name: string;
  size?: number;
  created?: string;
  properties?: Array<{ key: string; value: string }>;
}

export interface PackageHit {
  format: Format;
  repo: string;
  /** As the package view's route takes it (Maven `group:artifact`, Go the escaped module path). */
  name: string;
  /** For people (Go unescaped). */
  display: string;
  version: string;
  size?: number;
  created?: string;
}

/** AQL `$match` pattern text: the user's words, with `*` and `?` kept as wildcards and quotes escaped. */
const pattern = (s: string) => JSON.stringify(`*${s.trim()}*`);

/** The AQL query for one page of package files: `repos` (non-virtual) of the chosen formats, names and versions by substring. */
export function packageQuery(formats: Format[], repos: string[], name: string, version: string, offset: number, limit: number): string {
  const and: string[] = [`{"$or":[${repos.map((r) => `{"repo":${JSON.stringify(r)}}`).join(',')}]}`];
  const files = [...new Set(formats.flatMap((f) => FORMATS[f].files))];
  and.push(`{"$or":[${files.map((f) => `{"name":{"$match":${JSON.stringify(f)}}}`).join(',')}]}`);
  and.push('{"path":{"$nmatch":"*sha256:*"}}', '{"path":{"$nmatch":"*_uploads*"}}');
  if (name.trim()) and.push(`{"$or":[{"name":{"$match":${pattern(name)}}},{"path":{"$match":${pattern(name)}}}]}`);
  if (version.trim()) and.push(`{"$or":[{"name":{"$match":${pattern(version)}}},{"path":{"$match":${pattern(version)}}}]}`);
  return `items.find({"$and":[${and.join(',')}]}).include("repo","path","name","size","created","property").sort({"$desc":["created"]}).offset(${offset}).limit(${limit})`;
}

const prop = (it: AqlItem, key: string) => it.properties?.find((p) => p.key === key)?.value;

/** The package and version a file of `format` makes, if it makes one. */
export function packageOfItem(format: Format, it: AqlItem): PackageHit | undefined {
  const full = it.path && it.path !== '.' ? `${it.path}/${it.name}` : it.name;
  const hit = (name: string, version: string, display = name): PackageHit => ({ format, repo: it.repo, name, display, version, size: it.size, created: it.created });
  switch (format) {
    case 'npm': {
      const pkg = npmPackageOf(full);
      const short = pkg?.split('/').pop();
      if (!pkg || !short || !it.name.startsWith(`${short}-`) || !full.includes('/-/')) return undefined;
      return hit(pkg, it.name.slice(short.length + 1, -'.tgz'.length));
    }
    case 'maven': {
      const c = mavenCoordinatesOf(full);
      return c ? hit(`${c.groupId}:${c.artifactId}`, c.version) : undefined;
    }
    case 'pypi': {
      const n = prop(it, 'pypi.name');
      const v = prop(it, 'pypi.version');
      return n && v ? hit(n, v) : undefined;
    }
    case 'docker': {
      const r = manifestRef(full);
      return r ? hit(r.image, r.tag) : undefined;
    }
    case 'go': {
      const g = goFileOf(full);
      return g && full.endsWith(".zip") ? hit(g.module, g.version, unescapeGo(g.module)) : undefined;
    }
    case 'cargo': {
      const c = crateFileOf(full);
      return c ? hit(c.name, c.version) : undefined;
    }
    case 'gems': {
      const g = gemFileCandidates(full)[0];
      return g ? hit(g.name, g.version) : undefined;
    }
    case 'helm': {
      const c = chartFileOf(full);
      return c ? hit(c.name, c.version) : undefined;
    }
    case 'debian': {
      const n = prop(it, 'deb.name');
      return n ? hit(n, prop(it, 'deb.version') ?? '') : undefined;
    }
    case 'rpm': {
      const r = rpmFileOf(full);
      return r ? hit(r.name, `${r.version}-${r.release}`) : undefined;
    }
  }
}

/** The package view's route. */
export function packageHref(h: { format: Format; repo: string; name: string; version?: string }): string {
  return `/packages/${h.format}/${encodeURIComponent(h.repo)}/${h.name.split('/').map(encodeURIComponent).join('/')}${h.version ? `?version=${encodeURIComponent(h.version)}` : ''}`;
}
