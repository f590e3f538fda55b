import { describe, expect, it } from 'vitest';
import { encodePath, errorMessage } from './api';
import { manifestRef, tagsOf } from './components/docker-panel';
import { mavenCoordinatesOf, npmPackageOf } from './components/package-panel';
import { snippetsFor } from './components/setup-snippets';
import { chartFileOf, crateFileOf, crateIndexPath, gemFileCandidates, goFileOf, rpmFileOf, unescapeGo } from './components/format-panels';
import { selectionOf } from './pages/browse';
import { splitKeys } from './pages/licenses';
import { formatLine } from './pages/logs';
import { itemOfStorageUri, searchUrl } from './pages/search';
import { parseLocation } from './router';
import { naturalCompare } from './components/natural';

describe('web UI helpers', () => {
  it('reads error messages in every wire shape the API uses', () => {
    expect(errorMessage({ errors: [{ status: 404, message: 'Item not found' }] }, 'x')).toBe('Item not found');
    expect(errorMessage({ error: 'npm says no' }, 'x')).toBe('npm says no');
    expect(errorMessage({ status: 400, messages: { [`${'a'.repeat(30)}`]: 'License is in use' } }, 'x')).toBe(`${'a'.repeat(24)}…: License is in use`);
    expect(errorMessage('  plain text \n', 'x')).toBe('plain text');
    expect(errorMessage(undefined, '500 Internal Server Error')).toBe('500 Internal Server Error');
  });

  it('maps client routes to repository selections, decoding each segment', () => {
    expect(parseLocation('/ui/browse/libs/a%20b/c.jar', '?x=1').path).toBe('/browse/libs/a%20b/c.jar');
    expect(selectionOf('/browse/libs/a%20b/c.jar')).toEqual({ repo: 'libs', path: 'a b/c.jar' });
    expect(selectionOf('/browse')).toEqual({ repo: '', path: '' });
    expect(selectionOf('/')).toEqual({ repo: '', path: '' });
    expect(encodePath('a b/#c?/ü')).toBe('a%20b/%23c%3F/%C3%BC');
  });

  it('splits pasted license keys on newlines, spaces, semicolons and commas', () => {
    expect(splitKeys(' arca1.a.b\narca1.c.d;arca1.e.f ,arca1.g.h\t\n')).toEqual(['arca1.a.b', 'arca1.c.d', 'arca1.e.f', 'arca1.g.h']);
    expect(splitKeys(' ;\n ')).toEqual([]);
  });

  it('derives Maven coordinates and npm package names from paths', () => {
    expect(mavenCoordinatesOf('org/acme/lib/1.0/lib-1.0.jar')).toEqual({ groupId: 'org.acme', artifactId: 'lib', version: '1.0', classifier: undefined, extension: 'jar' });
    expect(mavenCoordinatesOf('org/acme/lib/1.0/lib-1.0-sources.jar')?.classifier).toBe('sources');
    expect(mavenCoordinatesOf('org/acme/lib/1.0-SNAPSHOT/lib-1.0-20240101.120000-3.pom')).toMatchObject({ version: '1.0-SNAPSHOT', extension: 'pom' });
    expect(mavenCoordinatesOf('org/acme/lib/1.0/maven-metadata.xml')).toBeUndefined();
    expect(mavenCoordinatesOf('org/acme/lib/maven-metadata.xml')).toBeUndefined();
    expect(npmPackageOf('left-pad/-/left-pad-1.0.0.tgz')).toBe('left-pad');
    expect(npmPackageOf('@scope/pkg/-/@scope/pkg-1.0.0.tgz')).toBe('@scope/pkg');
    expect(npmPackageOf('.npm/left-pad/package.json')).toBeUndefined();
  });

  it('builds search requests and reads result URIs', () => {
    expect(searchUrl('name', ' lib ', '')).toBe('/artifactory/api/search/artifact?name=lib');
    expect(searchUrl('checksum', 'a'.repeat(64), 'r1,r2')).toBe(`/artifactory/api/search/checksum?sha256=${'a'.repeat(64)}&repos=r1%2Cr2`);
    expect(searchUrl('checksum', 'b'.repeat(40), '')).toBe(`/artifactory/api/search/checksum?sha1=${'b'.repeat(40)}`);
    expect(searchUrl('checksum', 'c'.repeat(32), '')).toBe(`/artifactory/api/search/checksum?md5=${'c'.repeat(32)}`);
    expect(searchUrl('property', 'build.number=42; vcs.branch=main,dev', '')).toBe('/artifactory/api/search/prop?build.number=42&vcs.branch=main%2Cdev');
    expect(searchUrl('name', '  ', '')).toBeUndefined();
    expect(itemOfStorageUri('http://lb/artifactory/api/storage/libs/a%20b/c.jar')).toEqual({ repo: 'libs', path: 'a b/c.jar' });
  });

  it('finds Docker tags in an image folder listing', () => {
    const files = ['/1.0/manifest.json', '/1.0/sha256__aa', '/multi/list.manifest.json', '/sha256:abc/manifest.json', '/_uploads/sha256__aa'].map((uri) => ({ uri, size: 1, folder: false }));
    expect(tagsOf({ files })).toEqual(['1.0', 'multi']);
    expect(manifestRef('team/app/1.0/manifest.json')).toEqual({ image: 'team/app', tag: '1.0' });
    expect(manifestRef('team/app/1.0/sha256__aa')).toBeUndefined();
  });

  it('formats pino log lines and leaves other lines alone', () => {
    const line = formatLine(JSON.stringify({ level: 40, time: 0, pid: 1, hostname: 'h', msg: 'careful', component: 'licenses' }));
    expect(line).toEqual({ text: '1970-01-01T00:00:00.000Z WARN  careful  component=licenses', level: 'warn' });
    expect(formatLine('   _ banner')).toEqual({ text: '   _ banner' });
  });

  it('writes client snippets on the given URL base', () => {
    const npm = snippetsFor({ key: 'npm-local', type: 'LOCAL', packageType: 'Npm' }, 'https://repo.example.com/artifactory', 'alice');
    // Local only, no virtual known: the public registry stays, and a password goes in _auth, never _authToken.
    expect(npm[0].text).not.toContain('registry=https://repo.example.com/artifactory/api/npm/npm-local/\n//');
    expect(npm[0].text).toContain('//repo.example.com/artifactory/api/npm/npm-local/:_auth=<BASE64 OF user:password>');
    expect(npm[0].text).not.toContain('_authToken');
    const pip = snippetsFor({ key: 'py', type: 'VIRTUAL', packageType: 'Pypi' }, 'http://h:8081/artifactory', 'bob');
    expect(pip[0].text).toBe('[global]\nindex-url = http://bob:<ACCESS_TOKEN>@h:8081/artifactory/api/pypi/py/simple\n');
    const maven = snippetsFor({ key: 'libs', type: 'LOCAL', packageType: 'Maven' }, 'https://r/artifactory', 'carol');
    expect(maven[0].text).toContain('<url>https://r/artifactory/libs</url>');
    expect(maven[0].text).not.toContain('mirrorOf');
    const docker = snippetsFor({ key: 'dock', type: 'LOCAL', packageType: 'Docker' }, 'https://r.example:5000/artifactory', 'dave');
    expect(docker[0].text).toContain('docker login r.example:5000');
    const remote = snippetsFor({ key: 'gen-remote', type: 'REMOTE', packageType: 'Generic' }, 'https://r/artifactory', 'erin');
    expect(remote.at(-1)!.text).not.toContain(' -T ');
  });

  it('writes the Go, Cargo, RubyGems and Helm client configuration', () => {
    const base = 'https://r.example/artifactory';
    const go = snippetsFor({ key: 'go-virt', type: 'VIRTUAL', packageType: 'Go' }, base, 'ann');
    expect(go[0].text).toContain('export GOPROXY="https://ann:<ACCESS_TOKEN>@r.example/artifactory/api/go/go-virt"');
    const cargo = snippetsFor({ key: 'crates', type: 'LOCAL', packageType: 'Cargo' }, base, 'ben');
    expect(cargo[0].text).toContain('index = "sparse+https://r.example/artifactory/api/cargo/crates/index/"');
    expect(cargo[1].text).toContain('cargo login --registry crates "Bearer <ACCESS_TOKEN>"');
    const gems = snippetsFor({ key: 'gems-local', type: 'LOCAL', packageType: 'Gems' }, base, 'cy');
    expect(gems.map((s) => s.title)).toEqual(['gem', 'gem push', 'Bundler', 'curl']);
    expect(gems[1].text).toContain('api/gems/gems-local/api/v1/api_key.yaml');
    expect(gems[2].text).toContain('source "https://r.example/artifactory/api/gems/gems-local/"');
    const helm = snippetsFor({ key: 'charts', type: 'LOCAL', packageType: 'Helm' }, base, 'di');
    expect(helm[0].text).toContain('helm repo add charts https://r.example/artifactory/api/helm/charts --username di');
    expect(helm[1].text).toContain('-T my-chart-0.1.0.tgz "https://r.example/artifactory/api/helm/charts/my-chart-0.1.0.tgz"');
    expect(snippetsFor({ key: 'charts-remote', type: 'REMOTE', packageType: 'Helm' }, base, 'di').map((s) => s.title)).toEqual(['Helm', 'curl']);
  });

  it('writes the apt and dnf client configuration, with the repository key to trust', () => {
    const base = 'https://r.example/artifactory';
    const deb = snippetsFor({ key: 'deb-local', type: 'LOCAL', packageType: 'Debian' }, base, 'ed');
    expect(deb.map((s) => s.title)).toEqual(['apt', 'Deploy a package', 'curl']);
    expect(deb[0].text).toContain('deb [signed-by=/etc/apt/keyrings/deb-local.asc] https://r.example/artifactory/api/deb/deb-local bookworm main');
    expect(deb[0].text).toContain('https://r.example/artifactory/api/security/keypair/public/repositories/deb-local');
    expect(deb[0].text).toContain('machine r.example/artifactory/api/deb/deb-local login ed');
    expect(deb[1].text).toContain(';deb.distribution=bookworm;deb.component=main;deb.architecture=amd64"');
    const rpm = snippetsFor({ key: 'rpm-virtual', type: 'VIRTUAL', packageType: 'Rpm' }, base, 'fay');
    expect(rpm[0].text).toContain('baseurl=https://r.example/artifactory/rpm-virtual\n');
    expect(rpm[0].text).toContain('repo_gpgcheck=1\ngpgkey=https://r.example/artifactory/api/security/keypair/public/repositories/rpm-virtual\n');
    expect(snippetsFor({ key: 'rpm-remote', type: 'REMOTE', packageType: 'rpm' }, base, 'fay').map((s) => s.title)).toEqual(['dnf / yum', 'curl']);
  });

  it('reads an RPM file name: a name with dashes, the version, release and architecture', () => {
    expect(rpmFileOf('Packages/python3-libs-3.11.2-1.el9.x86_64.rpm')).toEqual({ name: 'python3-libs', version: '3.11.2', release: '1.el9', arch: 'x86_64' });
    expect(rpmFileOf('9/os/noarch/hello-1.0-1.noarch.rpm')).toEqual({ name: 'hello', version: '1.0', release: '1', arch: 'noarch' });
    expect(rpmFileOf('readme-1.0.txt')).toBeUndefined();
  });

  it('reads package names and versions from Go, Cargo, RubyGems and Helm paths', () => {
    expect(goFileOf('github.com/!azure/sdk/@v/v1.2.3-0.2026.zip')).toEqual({ module: 'github.com/!azure/sdk', version: 'v1.2.3-0.2026' });
    expect(goFileOf('github.com/x/y/@v/list')).toBeUndefined();
    expect(unescapeGo('github.com/!azure/!s!d!k')).toBe('github.com/Azure/SDK');
    expect(crateFileOf('crates/serde-json/serde-json-1.0.0-rc.1.crate')).toEqual({ name: 'serde-json', version: '1.0.0-rc.1' });
    expect(crateFileOf('crates/a/b-1.0.0.crate')).toBeUndefined();
    expect([crateIndexPath('a'), crateIndexPath('ab'), crateIndexPath('abc'), crateIndexPath('Serde')]).toEqual(['1/a', '2/ab', '3/a/abc', 'se/rd/serde']);
    expect(gemFileCandidates('gems/net-http2-0.1.0-x86_64-linux.gem')).toEqual([{ name: 'net-http2', version: '0.1.0-x86_64-linux' }]);
    expect(gemFileCandidates('gems/ab-1-2.0.gem')).toEqual([
      { name: 'ab', version: '1-2.0' },
      { name: 'ab-1', version: '2.0' },
    ]);
    expect(chartFileOf('charts/my-app-1.2.3-rc.1+build.5.tgz')).toEqual({ name: 'my-app', version: '1.2.3-rc.1+build.5' });
    expect(chartFileOf('index.yaml')).toBeUndefined();
  });

  it('orders names and versions naturally', () => {
    expect(['1.10.0', '1.9.2', '1.2.0', '10.0', '1.9.10'].sort(naturalCompare)).toEqual(['1.2.0', '1.9.2', '1.9.10', '1.10.0', '10.0']);
    expect(['file10', 'File2', 'file1'].sort(naturalCompare)).toEqual(['file1', 'File2', 'file10']);
    expect(['a-01', 'a-1'].sort(naturalCompare)).toEqual(['a-01', 'a-1']);
    expect(naturalCompare('x', 'x')).toBe(0);
  });
});
