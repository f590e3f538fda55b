import { describe, expect, it } from 'vitest';
import { trashQuery } from '../../pages/trash';
import { gemInfoLine, goModRequires } from '../format-panels';
import { virtualsIncluding } from '../setup-snippets';
import { readmeInTar } from './chart-readme';
import { pypiFileOf } from './for-path';
import { baseOfRepoUrl } from './repo-base';
import { packageHref, packageOfItem, packageQuery } from './package-search';
import { sortVersionsDesc } from './parts';
import { npmAuth, roles, snippetsFor } from './snippets';
import { mavenMetadataVersions, parseCoreMetadata, pypiFileVersion } from './views';

const base = 'https://r.example/artifactory';

describe('Set Me Up snippets', () => {
  it('puts a generated token in every snippet that takes credentials, and a password only in npm _auth', () => {
    const token = 'eyJ.tok.en';
    for (const packageType of ['Npm', 'Maven', 'Pypi', 'Docker', 'Go', 'Cargo', 'Gems', 'Helm', 'Debian', 'Rpm', 'Generic']) {
      const all = snippetsFor({ key: 'x-local', type: 'LOCAL', packageType }, base, 'ann', { token, resolve: 'x-virtual' });
      const text = all.map((s) => s.text).join('\n');
      expect(text, packageType).not.toContain('<ACCESS_TOKEN>');
      expect(text, packageType).toContain(token);
    }
    const npm = snippetsFor({ key: 'npm-local', type: 'LOCAL', packageType: 'Npm' }, base, 'ann', { token, resolve: 'npm-virtual' })[0].text;
    expect(npm).toBe(
      'registry=https://r.example/artifactory/api/npm/npm-virtual/\n//r.example/artifactory/api/npm/npm-virtual/:_authToken=eyJ.tok.en\n//r.example/artifactory/api/npm/npm-local/:_authToken=eyJ.tok.en\n',
    );
    const noToken = snippetsFor({ key: 'npm-local', type: 'LOCAL', packageType: 'Npm' }, base, 'ann', { resolve: 'npm-virtual' })[0];
    expect(noToken.text).not.toContain('_authToken');
    expect(noToken.text).toContain(':_auth=<BASE64 OF user:password>');
    expect(npmAuth('ann', 'pw')).toBe('YW5uOnB3');
  });

  it('resolves through a virtual repository and deploys to the local one, never mirroring everything to a local repository', () => {
    const alone = snippetsFor({ key: 'libs-local', type: 'LOCAL', packageType: 'Maven' }, base, 'ann');
    expect(alone[0].text).not.toContain('mirrorOf');
    expect(alone[0].text).toContain('<activeProfile>arca</activeProfile>');
    expect(alone[0].note).toContain('beside Maven Central');
    expect(alone[1].text).toContain('<url>https://r.example/artifactory/libs-local</url>');
    const through = snippetsFor({ key: 'libs-local', type: 'LOCAL', packageType: 'Maven' }, base, 'ann', { resolve: 'libs' });
    expect(through[0].text).toContain('<mirrorOf>*</mirrorOf>\n      <url>https://r.example/artifactory/libs</url>');
    expect(through[1].title).toBe('Deploy from Maven');
    expect(through[1].text).toContain('<url>https://r.example/artifactory/libs-local</url>');
    expect(roles({ key: 'v', type: 'VIRTUAL', packageType: 'Npm' }, { deploy: 'l' })).toEqual({ resolve: 'v', deploy: 'l', localOnly: false });
    expect(roles({ key: 'r', type: 'REMOTE', packageType: 'Npm' })).toEqual({ resolve: 'r', deploy: undefined, localOnly: false });
    // A virtual repository without a default deployment repository gets no deploy snippets.
    expect(snippetsFor({ key: 'v', type: 'VIRTUAL', packageType: 'Maven' }, base, 'ann').map((s) => s.title)).toEqual(['Maven', 'curl']);
    // pip and Go keep the public index after a local-only repository.
    expect(snippetsFor({ key: 'py-local', type: 'LOCAL', packageType: 'Pypi' }, base, 'ann')[0].text).toContain('extra-index-url = https://ann:<ACCESS_TOKEN>@r.example/artifactory/api/pypi/py-local/simple');
    expect(snippetsFor({ key: 'go-local', type: 'LOCAL', packageType: 'Go' }, base, 'ann')[0].text).toContain('/api/go/go-local,https://proxy.golang.org,direct"');
    const docker = snippetsFor({ key: 'd-local', type: 'LOCAL', packageType: 'Docker' }, 'https://r.example:5000/artifactory', 'ann', { resolve: 'd', token: 'T' })[0].text;
    expect(docker).toContain("echo 'T' | docker login r.example:5000 -u ann --password-stdin");
    expect(docker).toContain('docker push r.example:5000/d-local/my-image:1.0');
    expect(docker).toContain('docker pull r.example:5000/d/my-image:1.0');
  });
});

/** A ustar archive of text files (name, size and type are all readmeInTar reads). */
function tarOf(files: Array<{ name: string; data: string }>): Uint8Array {
  const enc = new TextEncoder();
  const blocks: Uint8Array[] = [];
  for (const f of files) {
    const data = enc.encode(f.data);
    const head = new Uint8Array(512);
    head.set(enc.encode(f.name), 0);
    head.set(enc.encode(`${data.length.toString(8).padStart(11, '0')}\0`), 124);
    head.set(enc.encode('0'), 156);
    const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
    body.set(data);
    blocks.push(head, body);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

describe('package views and search', () => {
  it('finds the virtual repositories that include a repository, through nested virtuals too', () => {
    const v = [
      { key: 'all', repositories: ['npm', 'other'] },
      { key: 'npm', repositories: ['npm-local', 'npm-remote'] },
      { key: 'other', repositories: ['x'] },
      { key: 'loop', repositories: ['loop'] },
    ];
    expect(virtualsIncluding('npm-local', v)).toEqual(['all', 'npm']);
    expect(virtualsIncluding('nowhere', v)).toEqual([]);
  });

  it('takes the URL base from a repository URL, for users who may not read the configuration', () => {
    expect(baseOfRepoUrl('libs', 'https://repo.example.com/artifactory/libs')).toBe('https://repo.example.com/artifactory');
    expect(baseOfRepoUrl('libs', 'https://repo.example.com/artifactory/other')).toBeUndefined();
    expect(baseOfRepoUrl('libs', undefined)).toBeUndefined();
  });

  it('orders versions naturally, newest first', () => {
    expect(sortVersionsDesc([{ version: '1.9.0' }, { version: '1.10.0' }, { version: '1.2.0' }]).map((r) => r.version)).toEqual(['1.10.0', '1.9.0', '1.2.0']);
    expect(mavenMetadataVersions('<metadata><version>1.0</version><versioning><latest>1.10</latest><versions><version>1.9</version><version>1.10</version></versions></versioning></metadata>')).toEqual(['1.10', '1.9']);
  });

  it('reads go.mod requirements, gem compact index lines, PyPI file versions and core metadata', () => {
    expect(goModRequires('module a\n\nrequire b.com/x v1.0.0\nrequire (\n\tc.com/y v0.2.0 // indirect\n\td.com/z v3.0.0\n)\n')).toEqual([
      { name: 'b.com/x', req: 'v1.0.0', note: undefined },
      { name: 'c.com/y', req: 'v0.2.0', note: 'indirect' },
      { name: 'd.com/z', req: 'v3.0.0', note: undefined },
    ]);
    expect(gemInfoLine('1.2.0 rack:>= 2.0&< 4,json:~> 2.1|checksum:abc,ruby:>= 3')).toEqual({ version: '1.2.0', deps: [{ name: 'rack', req: '>= 2.0, < 4' }, { name: 'json', req: '~> 2.1' }] });
    expect(gemInfoLine('0.1.0 |checksum:abc')).toEqual({ version: '0.1.0', deps: [] });
    expect(pypiFileVersion('my_lib-1.0.0-py3-none-any.whl')).toBe('1.0.0');
    expect(pypiFileVersion('my-lib-2.0rc1.tar.gz')).toBe('2.0rc1');
    expect(pypiFileOf('my-lib/1.0/my_lib-1.0-py3-none-any.whl')).toEqual({ project: 'my-lib', version: '1.0' });
    expect(pypiFileOf('my-lib/1.0/README.txt')).toBeUndefined();
    const meta = parseCoreMetadata('Metadata-Version: 2.1\r\nName: x\r\nRequires-Dist: requests (>=2); python_version > "3"\r\nSummary: S\r\n  continued\r\n\r\n# Title\n\nBody');
    expect(meta.headers).toContainEqual(['Summary', 'S\ncontinued']);
    expect(meta.body).toBe('# Title\n\nBody');
  });

  it('finds the README of a chart archive', () => {
    const tar = tarOf([
      { name: 'c/Chart.yaml', data: 'name: c\n' },
      { name: 'c/charts/dep/README.md', data: 'not this one' },
      { name: 'c/README.md', data: '# c\nHello' },
    ]);
    expect(readmeInTar(tar)).toBe('# c\nHello');
    expect(readmeInTar(tarOf([{ name: 'c/Chart.yaml', data: 'x' }]))).toBeUndefined();
  });

  it('queries package files by format, name and version, and reads packages back from them', () => {
    const q = packageQuery(['npm'], ['npm-local'], 'ui"x', '1.0', 50, 51);
    expect(q).toContain('{"repo":"npm-local"}');
    expect(q).toContain('{"name":{"$match":"*.tgz"}}');
    expect(q).toContain('{"name":{"$match":"*ui\\"x*"}}');
    expect(q).toMatch(/\.offset\(50\)\.limit\(51\)$/);
    const it = (repo: string, path: string, name: string, properties?: Array<{ key: string; value: string }>) => ({ repo, path, name, properties });
    expect(packageOfItem('npm', it('n', '@s/p/-', 'p-1.2.3.tgz'))).toMatchObject({ name: '@s/p', version: '1.2.3' });
    expect(packageOfItem('maven', it('m', 'org/acme/demo/1.0', 'demo-1.0.pom'))).toMatchObject({ name: 'org.acme:demo', version: '1.0' });
    expect(packageOfItem('docker', it('d', 'team/app/1.0', 'manifest.json'))).toMatchObject({ name: 'team/app', version: '1.0' });
    expect(packageOfItem('go', it('g', 'github.com/!azure/x/@v', 'v1.0.0.zip'))).toMatchObject({ name: 'github.com/!azure/x', display: 'github.com/Azure/x', version: 'v1.0.0' });
    expect(packageOfItem('pypi', it('p', 'ui-lib/0.3.0', 'f.whl', [{ key: 'pypi.name', value: 'ui-lib' }, { key: 'pypi.version', value: '0.3.0' }]))).toMatchObject({ name: 'ui-lib', version: '0.3.0' });
    expect(packageOfItem('rpm', it('r', 'Packages', 'hello-1.0-1.x86_64.rpm'))).toMatchObject({ name: 'hello', version: '1.0-1' });
    expect(packageOfItem('npm', it('n', '.npm/p', 'package.json'))).toBeUndefined();
    expect(packageHref({ format: 'docker', repo: 'd', name: 'team/app', version: '1.0' })).toBe('/packages/docker/d/team/app?version=1.0');
    expect(trashQuery('a"b', 0, 101)).toContain('{"path":{"$match":"*a\\"b*"}}');
  });
});
