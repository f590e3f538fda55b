import { describe, expect, it } from 'vitest';
import { documentPath, escapeName, parsePackageName, splitPackagePath, tarballPath, versionOfTarball } from './names.js';
import { compareVersions, distTagProblem, highestVersion, isValidVersion } from './semver.js';

describe('npm package names', () => {
  it('accepts unscoped and scoped names and splits the scope', () => {
    expect(parsePackageName('left-pad')).toEqual({ name: 'left-pad', base: 'left-pad' });
    expect(parsePackageName('@acme/util.js')).toEqual({ name: '@acme/util.js', scope: 'acme', base: 'util.js' });
    expect(parsePackageName('JSONStream').base).toBe('JSONStream');
  });

  it.each([
    ['', 'empty'],
    ['.hidden', "cannot start with '.'"],
    ['_private', "cannot start with '.'"],
    [' spaced', 'spaces'],
    ['a/b', "may hold only"],
    ['../etc', "may hold only"],
    ['@scope', "'@scope/name'"],
    ['@/x', 'scope is empty'],
    ['@s/', 'name after the scope is empty'],
    ['@s/../x', "may hold only"],
    ['@s/..', "cannot start with '.'"],
    ['node_modules', 'reserved'],
    ['name~x', 'may hold only'],
    ['x'.repeat(215), 'longer than 214'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(() => parsePackageName(name)).toThrow(reason);
  });

  it('escapes a scoped name as npm puts it in URLs', () => {
    expect(escapeName('@acme/util')).toBe('@acme%2Futil');
    expect(escapeName('plain')).toBe('plain');
  });

  it('lays out tarballs and documents as Artifactory does', () => {
    expect(tarballPath('pkg', '1.0.0')).toBe('pkg/-/pkg-1.0.0.tgz');
    expect(tarballPath('@acme/util', '2.0.0-beta.1')).toBe('@acme/util/-/@acme/util-2.0.0-beta.1.tgz');
    expect(documentPath('@acme/util')).toBe('.npm/@acme/util/package.json');
  });

  it('splits registry paths in all three spellings of a scoped name', () => {
    expect(splitPackagePath('pkg')).toEqual({ name: 'pkg', rest: [] });
    expect(splitPackagePath('@acme%2futil')).toEqual({ name: '@acme/util', rest: [] });
    expect(splitPackagePath('%40acme%2Futil/-rev/3-abc')).toEqual({ name: '@acme/util', rest: ['-rev', '3-abc'] });
    expect(splitPackagePath('@acme/util/-/util-1.0.0.tgz')).toEqual({ name: '@acme/util', rest: ['-', 'util-1.0.0.tgz'] });
    expect(splitPackagePath('@acme/util/-/@acme/util-1.0.0.tgz')).toEqual({ name: '@acme/util', rest: ['-', '@acme', 'util-1.0.0.tgz'] });
    expect(() => splitPackagePath('%2e%2e')).toThrow(/cannot start with/);
    expect(() => splitPackagePath('%zz')).toThrow(/percent-encoding/);
  });

  it('reads the version out of both tarball file names', () => {
    const scoped = parsePackageName('@acme/util');
    expect(versionOfTarball(scoped, '@acme/util-1.2.3.tgz')).toBe('1.2.3');
    expect(versionOfTarball(scoped, 'util-1.2.3-rc.1.tgz')).toBe('1.2.3-rc.1');
    expect(versionOfTarball(parsePackageName('a-b'), 'a-b-1.0.0.tgz')).toBe('1.0.0');
    expect(versionOfTarball(parsePackageName('a-b'), 'other-1.0.0.tgz')).toBeUndefined();
    expect(versionOfTarball(parsePackageName('a-b'), 'a-b-1.0.0.zip')).toBeUndefined();
  });
});

describe('semver', () => {
  it('validates versions strictly', () => {
    for (const v of ['1.0.0', '0.0.1-alpha.1', '1.2.3+build.5', '10.20.30-rc.1+x']) expect(isValidVersion(v)).toBe(true);
    for (const v of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0-01', '', '1.0.0 ']) expect(isValidVersion(v)).toBe(false);
  });

  it('orders by precedence, prereleases below their release', () => {
    const sorted = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-alpha.beta', '1.0.0-beta.11', '1.0.0-beta.2', '1.0.0-rc.1', '0.9.9', '1.10.0', '1.2.0'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0']);
    expect(compareVersions('1.0.0+a', '1.0.0+b')).toBe(0);
  });

  it('picks the highest release for latest, a prerelease only when nothing else exists', () => {
    expect(highestVersion(['1.0.0', '2.0.0-rc.1', '1.5.0'])).toBe('1.5.0');
    expect(highestVersion(['2.0.0-rc.1', '2.0.0-rc.2'])).toBe('2.0.0-rc.2');
    expect(highestVersion([])).toBeUndefined();
  });

  it('refuses dist-tags that read as versions or ranges', () => {
    for (const t of ['latest', 'next', 'beta', 'xmas', 'v-next', 'canary']) expect(distTagProblem(t)).toBeUndefined();
    for (const t of ['1', '1.x', 'x', '*', 'v2', '^1.0.0', '~1', '>=1', '1.0.0', 'a b', 'a/b', '']) expect(distTagProblem(t)).toBeDefined();
  });
});
