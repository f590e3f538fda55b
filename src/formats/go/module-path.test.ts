import { describe, expect, it } from 'vitest';
import { filePath, goModModulePath, latestPath, listPath, parseFilePath, parseVersionFileName, checkInfo, generatedInfo } from './go-files.js';
import {
  checkCanonicalVersion,
  checkModulePath,
  checkPathMajor,
  compareVersions,
  escapeModulePath,
  escapeVersion,
  isPseudoVersion,
  latestOf,
  modulePathFromUrl,
  unescapeModulePath,
  unescapeVersion,
  versionFromUrl,
} from './module-path.js';

describe('module paths', () => {
  it('escapes upper case as the protocol says, and back', () => {
    expect(escapeModulePath('github.com/Azure/azure-sdk-for-go')).toBe('github.com/!azure/azure-sdk-for-go');
    expect(escapeModulePath('github.com/BurntSushi/toml')).toBe('github.com/!burnt!sushi/toml');
    expect(unescapeModulePath('github.com/!burnt!sushi/toml')).toEqual({ ok: true, value: 'github.com/BurntSushi/toml' });
    expect(escapeVersion('v1.0.0-RC1')).toBe('v1.0.0-!r!c1');
    expect(unescapeVersion('v1.0.0-!r!c1')).toEqual({ ok: true, value: 'v1.0.0-RC1' });
  });

  it('refuses escapings that are not canonical', () => {
    expect(unescapeModulePath('github.com/Azure/x').ok).toBe(false);
    expect(unescapeModulePath('github.com/!/x').ok).toBe(false);
    expect(unescapeModulePath('github.com/x!').ok).toBe(false);
    expect(unescapeModulePath('github.com/!1x').ok).toBe(false);
    expect(unescapeVersion('v1.0.0-RC1').ok).toBe(false);
  });

  it('takes raw paths from the JFrog CLI and escaped ones from the go command', () => {
    expect(modulePathFromUrl('github.com/Azure/x')).toEqual({ ok: true, value: 'github.com/Azure/x' });
    expect(modulePathFromUrl('github.com/!azure/x')).toEqual({ ok: true, value: 'github.com/Azure/x' });
    expect(versionFromUrl('v1.0.0-RC1')).toEqual({ ok: true, value: 'v1.0.0-RC1' });
    expect(versionFromUrl('v1.0.0-!r!c1')).toEqual({ ok: true, value: 'v1.0.0-RC1' });
  });

  it.each([
    ['', 'empty'],
    ['example', 'missing dot'],
    ['example.com//x', 'empty path element'],
    ['example.com/../x', "'..'"],
    ['example.com/./x', "'.'"],
    ['example.com/a b', 'invalid character'],
    ['example.com/a\\b', 'invalid character'],
    ['example.com/x.', 'trailing dot'],
    ['-example.com/x', 'leading dash'],
    ['example.com/con', 'reserved'],
    ['example.com/x/v1', 'major version'],
    ['example.com/x/v0', 'major version'],
    ['Example.com/x', 'host name'],
  ])('refuses the module path %j (%s)', (path, why) => {
    const r = checkModulePath(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });

  it('accepts real module paths', () => {
    for (const p of ['golang.org/x/mod', 'github.com/BurntSushi/toml', 'example.com/m/v2', 'gopkg.in/yaml.v3', 'example.com/a_b~c-d.e']) {
      expect(checkModulePath(p)).toEqual({ ok: true, value: p });
    }
  });
});

describe('versions', () => {
  it('accepts canonical versions, +incompatible from v2 on, and pseudo-versions', () => {
    for (const v of ['v0.0.1', 'v1.2.3', 'v1.2.3-rc.1', 'v2.0.0+incompatible', 'v0.0.0-20191109021931-daa7c04131f5']) expect(checkCanonicalVersion(v).ok).toBe(true);
    for (const v of ['1.2.3', 'v1.2', 'v1', 'v01.2.3', 'v1.2.3+build', 'v1.0.0+incompatible', 'v1.2.3-01', 'latest', 'v1.2.3 ']) expect(checkCanonicalVersion(v).ok).toBe(false);
  });

  it('knows the three forms of pseudo-version', () => {
    expect(isPseudoVersion('v0.0.0-20191109021931-daa7c04131f5')).toBe(true);
    expect(isPseudoVersion('v1.2.4-0.20191109021931-daa7c04131f5')).toBe(true);
    expect(isPseudoVersion('v1.2.3-pre.0.20191109021931-daa7c04131f5')).toBe(true);
    expect(isPseudoVersion('v2.0.1-0.20191109021931-daa7c04131f5+incompatible')).toBe(true);
    expect(isPseudoVersion('v1.2.3')).toBe(false);
    expect(isPseudoVersion('v1.2.3-rc.1')).toBe(false);
  });

  it('orders by semantic version', () => {
    const sorted = ['v1.10.0', 'v1.2.0', 'v1.2.0-rc.2', 'v1.2.0-rc.10', 'v1.2.0-alpha', 'v0.9.0', 'v2.0.0+incompatible'].sort(compareVersions);
    expect(sorted).toEqual(['v0.9.0', 'v1.2.0-alpha', 'v1.2.0-rc.2', 'v1.2.0-rc.10', 'v1.2.0', 'v1.10.0', 'v2.0.0+incompatible']);
  });

  it('picks @latest as the go command would: release, else pre-release, else pseudo-version', () => {
    expect(latestOf(['v1.0.0', 'v1.1.0-rc.1', 'v0.0.0-20301109021931-daa7c04131f5'])).toBe('v1.0.0');
    expect(latestOf(['v1.1.0-rc.1', 'v0.0.0-20301109021931-daa7c04131f5'])).toBe('v1.1.0-rc.1');
    expect(latestOf(['v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0-20201109021931-aaaaaaaaaaaa'])).toBe('v0.0.0-20201109021931-aaaaaaaaaaaa');
    expect(latestOf([])).toBeUndefined();
  });

  it('matches versions to the major version suffix of the path', () => {
    expect(checkPathMajor('example.com/m', 'v1.2.3').ok).toBe(true);
    expect(checkPathMajor('example.com/m', 'v2.0.0').ok).toBe(false);
    expect(checkPathMajor('example.com/m', 'v2.0.0+incompatible').ok).toBe(true);
    expect(checkPathMajor('example.com/m/v2', 'v2.0.0').ok).toBe(true);
    expect(checkPathMajor('example.com/m/v2', 'v3.0.0').ok).toBe(false);
    expect(checkPathMajor('example.com/m/v2', 'v2.0.0+incompatible').ok).toBe(false);
    expect(checkPathMajor('gopkg.in/yaml.v3', 'v3.0.1').ok).toBe(true);
    expect(checkPathMajor('gopkg.in/yaml.v3', 'v2.0.1').ok).toBe(false);
  });
});

describe('GOPROXY file paths', () => {
  it('stores a version escaped, under {module}/@v', () => {
    expect(filePath('github.com/Azure/x', 'v1.0.0-RC1', 'zip')).toBe('github.com/!azure/x/@v/v1.0.0-!r!c1.zip');
    expect(listPath('github.com/Azure/x')).toBe('github.com/!azure/x/@v/list');
    expect(latestPath('github.com/Azure/x')).toBe('github.com/!azure/x/@latest');
    expect(parseFilePath('github.com/!azure/x/@v/v1.0.0-!r!c1.zip')).toEqual({ ok: true, value: { module: 'github.com/Azure/x', version: 'v1.0.0-RC1', ext: 'zip' } });
    expect(parseVersionFileName('v1.0.0.mod')).toEqual({ version: 'v1.0.0', ext: 'mod' });
    expect(parseVersionFileName('list')).toBeUndefined();
  });

  it.each(['example.com/m/v1.0.0.zip', 'example.com/m/@v/v1.0.0.tar', 'example.com/m/@v/1.0.0.zip', 'example.com/M/@v/v1.0.0.zip', 'example.com/m/@v/v2.0.0.zip', 'x/@v/v1.0.0.zip'])(
    'refuses %s',
    (path) => expect(parseFilePath(path).ok).toBe(false),
  );

  it('reads the module directive of a go.mod', () => {
    expect(goModModulePath('// comment\nmodule example.com/m // trailing\n\ngo 1.19\n')).toBe('example.com/m');
    expect(goModModulePath('module "example.com/q"\n')).toBe('example.com/q');
    expect(goModModulePath('module (\n\texample.com/b\n)\n')).toBe('example.com/b');
    expect(goModModulePath('go 1.19\n')).toBeUndefined();
  });

  it('checks a deployed .info and makes one when none was deployed', () => {
    expect(checkInfo(Buffer.from('{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}'), 'v1.0.0').ok).toBe(true);
    expect(checkInfo(Buffer.from('{"Version":"v1.0.1"}'), 'v1.0.0').ok).toBe(false);
    expect(checkInfo(Buffer.from('{"Version":"v1.0.0","Time":"yesterday"}'), 'v1.0.0').ok).toBe(false);
    expect(checkInfo(Buffer.from('nope'), 'v1.0.0').ok).toBe(false);
    expect(JSON.parse(generatedInfo('v1.0.0', Date.UTC(2024, 0, 2, 3, 4, 5, 678)).toString())).toEqual({ Version: 'v1.0.0', Time: '2024-01-02T03:04:05Z' });
  });
});
