import { describe, expect, it } from 'vitest';
import { npmAuth, roles, snippetsFor } from './snippets';

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
