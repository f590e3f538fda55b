import { describe, expect, it } from 'vitest';
import { chartFileCandidates, compareVersions, parseChartYaml, parseSemVer, provenanceChart } from './chart-metadata.js';

const yaml = (s: string) => Buffer.from(s);

describe('SemVer 2', () => {
  it('accepts SemVer 2 and nothing looser', () => {
    for (const v of ['1.0.0', '0.0.1-alpha.1', '10.20.30+build.5', '1.0.0-rc.1+meta']) expect(parseSemVer(v), v).toBeDefined();
    for (const v of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0-01', '1.0.0+', '']) expect(parseSemVer(v), v).toBeUndefined();
  });

  it('orders by precedence, prereleases below their release', () => {
    const sorted = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.11', '1.0.0-beta.2', '1.0.0-rc.1', '0.9.9', '10.0.0', '2.0.0'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '10.0.0']);
  });
});

describe('chart file names', () => {
  it('lists every name and version a file name can stand for', () => {
    expect(chartFileCandidates('my-chart-1.2.3.tgz')).toEqual([{ name: 'my-chart', version: '1.2.3' }]);
    expect(chartFileCandidates('a-1.0.0-2.0.0.tgz')).toEqual([
      { name: 'a', version: '1.0.0-2.0.0' },
      { name: 'a-1.0.0', version: '2.0.0' },
    ]);
    expect(chartFileCandidates('README.md')).toEqual([]);
  });
});

describe('parseChartYaml', () => {
  it('keeps the fields the index carries, with scalars as written', () => {
    const md = parseChartYaml(
      yaml(`apiVersion: v2
name: web
version: 1.2.3
appVersion: 1.10
description: "A web\\tserver"
type: application
keywords: [http, nginx]
home: https://example.org
sources: [https://github.com/example/web]
maintainers:
  - name: Ann
    email: ann@example.org
icon: https://example.org/icon.png
deprecated: true
kubeVersion: ">=1.22.0"
annotations:
  category: Infrastructure
dependencies:
  - name: redis
    version: 17.x.x
    repository: https://charts.example.org
    condition: redis.enabled
    enabled: false
    import-values: [child]
`),
    );
    expect(md).toEqual({
      apiVersion: 'v2',
      name: 'web',
      version: '1.2.3',
      appVersion: '1.10',
      description: 'A web server',
      type: 'application',
      keywords: ['http', 'nginx'],
      home: 'https://example.org',
      sources: ['https://github.com/example/web'],
      maintainers: [{ name: 'Ann', email: 'ann@example.org' }],
      icon: 'https://example.org/icon.png',
      deprecated: true,
      kubeVersion: '>=1.22.0',
      annotations: { category: 'Infrastructure' },
      dependencies: [{ name: 'redis', version: '17.x.x', repository: 'https://charts.example.org', condition: 'redis.enabled', enabled: false, 'import-values': ['child'] }],
    });
  });

  it('defaults apiVersion to v1 as Helm does', () => {
    expect(parseChartYaml(yaml('name: a\nversion: 0.1.0\n')).apiVersion).toBe('v1');
  });

  it('refuses what Helm would refuse', () => {
    const bad = (s: string, m: RegExp) => expect(() => parseChartYaml(yaml(s))).toThrow(m);
    bad('- a\n- b\n', /not a YAML map/);
    bad('name: a\n', /version is required/);
    bad('name: a\nversion: latest\n', /SemVer 2/);
    bad('name: a b\nversion: 1.0.0\n', /invalid/);
    bad('name: ..\nversion: 1.0.0\n', /invalid/);
    bad('name: a\nversion: 1.0.0\ntype: plugin\n', /application or library/);
    bad('name: a\nversion: 1.0.0\napiVersion: v9\n', /apiVersion/);
    bad('name: a\nversion: 1.0.0\nkeywords: nope\n', /list of strings/);
    bad('name: a\nversion: 1.0.0\nmaintainers: [~]\n', /maintainers/);
    bad('name: a\nversion: 1.0.0\nname: b\n', /not valid YAML/);
    bad('name: a\nversion: 1.0.0\ndependencies:\n  - name: x\n  - name: x\n', /more than one dependency/);
    bad(`a: &a [x, x, x, x, x, x, x, x]\n${Array.from({ length: 60 }, (_, i) => `k${i}: *a`).join('\n')}\nname: a\nversion: 1.0.0\n`, /not valid YAML/);
  });
});

describe('provenanceChart', () => {
  it('names the chart a provenance file signs', () => {
    const prov = Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: web\nversion: 1.2.3\n\n...\nfiles:\n  web-1.2.3.tgz: sha256:00\n-----BEGIN PGP SIGNATURE-----\n');
    expect(provenanceChart(prov)).toEqual({ name: 'web', version: '1.2.3' });
    expect(() => provenanceChart(Buffer.from('name: web\nversion: 1.2.3\n'))).toThrow(/PGP/);
    expect(() => provenanceChart(Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----\n\nname: web\n'))).toThrow(/SemVer/);
  });
});
