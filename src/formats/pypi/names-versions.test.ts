import { describe, expect, it } from 'vitest';
import { parseDistributionFilename, parseSdistFilename, parseWheelFilename } from './filenames.js';
import { isNormalizedProjectName, isValidProjectName, normalizeProjectName } from './names.js';
import { isValidVersion, normalizeVersion, sameVersion } from './versions.js';

describe('project names (PEP 503 / PEP 508)', () => {
  it('normalises runs of - _ . to one dash, lower case', () => {
    expect(normalizeProjectName('Friendly-Bard')).toBe('friendly-bard');
    expect(normalizeProjectName('FRIENDLY-BARD')).toBe('friendly-bard');
    expect(normalizeProjectName('friendly.bard')).toBe('friendly-bard');
    expect(normalizeProjectName('friendly_bard')).toBe('friendly-bard');
    expect(normalizeProjectName('friendly--bard')).toBe('friendly-bard');
    expect(normalizeProjectName('FrIeNdLy-._.-bArD')).toBe('friendly-bard');
    expect(isNormalizedProjectName('friendly-bard')).toBe(true);
    expect(isNormalizedProjectName('Friendly_Bard')).toBe(false);
  });
  it('validates names', () => {
    for (const ok of ['a', 'A1', 'zope.interface', 'my_pkg-2']) expect(isValidProjectName(ok)).toBe(true);
    for (const bad of ['', '-a', 'a-', '.a', 'a b', 'a/b', '../x', 'é', 'a'.repeat(201)]) expect(isValidProjectName(bad)).toBe(false);
  });
});

describe('versions (PEP 440)', () => {
  it('normalises the spellings of one release', () => {
    expect(normalizeVersion('1.0')).toBe('1.0');
    expect(normalizeVersion('v1.0')).toBe('1.0');
    expect(normalizeVersion('1.0-post1')).toBe('1.0.post1');
    expect(normalizeVersion('1.0-1')).toBe('1.0.post1');
    expect(normalizeVersion('1.0_post_1')).toBe('1.0.post1');
    expect(normalizeVersion('1.0.0-Alpha.1')).toBe('1.0.0a1');
    expect(normalizeVersion('1.0c2')).toBe('1.0rc2');
    expect(normalizeVersion('1.0preview')).toBe('1.0rc0');
    expect(normalizeVersion('1.0.dev')).toBe('1.0.dev0');
    expect(normalizeVersion('0!01.02')).toBe('1.2');
    expect(normalizeVersion('2!1.0')).toBe('2!1.0');
    expect(normalizeVersion('1.0+Ubuntu-01')).toBe('1.0+ubuntu.1');
    expect(sameVersion('1.0-post1', '1.0.post1')).toBe(true);
    expect(sameVersion('1.0', '1.0.0')).toBe(false);
  });
  it('refuses what is not a version', () => {
    for (const bad of ['', 'abc', '1.0-', '1..0', '1.0+', 'post1', '1.0 beta']) expect(isValidVersion(bad)).toBe(false);
  });
});

describe('distribution file names', () => {
  it('parses wheels with and without a build tag', () => {
    const w = parseWheelFilename('Friendly_Bard-1.0.post1-py3-none-any.whl');
    expect(w).toMatchObject({ ok: true, file: { kind: 'wheel', name: 'Friendly_Bard', project: 'friendly-bard', version: '1.0.post1', pythonTag: 'py3' } });
    const b = parseWheelFilename('numpy-1.26.0-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
    expect(b).toMatchObject({ ok: true, file: { buildTag: '1', abiTag: 'cp311', platformTag: 'manylinux_2_17_x86_64.manylinux2014_x86_64' } });
  });
  it('refuses bad wheel names with the reason', () => {
    const cases: [string, RegExp][] = [
      ['pkg-1.0.whl', /expected \{name\}-\{version\}/],
      ['pkg-1.0-py3-none.whl', /expected/],
      ['pkg-abc-py3-none-any.whl', /not a valid PEP 440 version/],
      ['pkg-1.0-x-py3-none-any.whl', /build tag 'x' must start with a digit/],
      ['../pkg-1.0-py3-none-any.whl', /characters/],
      ['pkg-1.0-py3-none-any.zip', /must end in .whl/],
      ['pkg-1.0-py3-no ne-any.whl', /characters/],
    ];
    for (const [name, why] of cases) {
      const r = parseWheelFilename(name);
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(why);
    }
  });
  it('parses sdists, legacy dashes and .zip, preferring the declared version', () => {
    expect(parseSdistFilename('friendly_bard-1.0.tar.gz')).toMatchObject({ ok: true, file: { kind: 'sdist', project: 'friendly-bard', version: '1.0' } });
    expect(parseSdistFilename('friendly-bard-2.0.zip')).toMatchObject({ ok: true, file: { project: 'friendly-bard', version: '2.0' } });
    expect(parseSdistFilename('foo-1.0-post1.tar.gz')).toMatchObject({ ok: true, file: { project: 'foo', version: '1.0-post1', normalizedVersion: '1.0.post1' } });
    expect(parseSdistFilename('foo-2-3.tar.gz', '3')).toMatchObject({ ok: true, file: { project: 'foo-2', version: '3' } });
    expect(parseSdistFilename('foo-2-3.tar.gz', '2-3')).toMatchObject({ ok: true, file: { project: 'foo', version: '2-3' } });
    expect(parseSdistFilename('foo.tar.gz').ok).toBe(false);
    expect(parseSdistFilename('foo-1.0.tar.bz2').ok).toBe(false);
    expect(parseDistributionFilename('foo-1.0.exe').ok).toBe(false);
  });
});
