import { describe, expect, it } from 'vitest';
import { downloadUrl } from './download-url.js';
import { classifyStored, compareVersions, crateNameProblem, crateOfIndexPath, cratePath, indexPath, parseVersion, recordPath, storedIndexPath } from './names.js';

describe('cargo names and paths', () => {
  it('lays index files out by the sparse protocol prefixes, in lower case', () => {
    expect(indexPath('a')).toBe('1/a');
    expect(indexPath('AB')).toBe('2/ab');
    expect(indexPath('abc')).toBe('3/a/abc');
    expect(indexPath('Serde_Json')).toBe('se/rd/serde_json');
    expect(indexPath('cargo')).toBe('ca/rg/cargo');
    expect(storedIndexPath('Foo')).toBe('.index/3/f/foo');
  });

  it('reads a crate back from an index path only when the layout matches', () => {
    expect(crateOfIndexPath('se/rd/serde')).toBe('serde');
    expect(crateOfIndexPath('3/f/foo')).toBe('foo');
    expect(crateOfIndexPath('1/a')).toBe('a');
    expect(crateOfIndexPath('2/ab')).toBe('ab');
    expect(crateOfIndexPath('se/rd/Serde')).toBeUndefined();
    expect(crateOfIndexPath('xx/rd/serde')).toBeUndefined();
    expect(crateOfIndexPath('3/g/foo')).toBeUndefined();
    expect(crateOfIndexPath('../../etc/passwd')).toBeUndefined();
    expect(crateOfIndexPath('config.json')).toBeUndefined();
  });

  it('checks crate names as crates.io does', () => {
    expect(crateNameProblem('serde_json')).toBeUndefined();
    expect(crateNameProblem('a-b')).toBeUndefined();
    expect(crateNameProblem('')).toMatch(/empty/);
    expect(crateNameProblem('1abc')).toMatch(/start with/);
    expect(crateNameProblem('ab/c')).toMatch(/ASCII/);
    expect(crateNameProblem('héllo')).toMatch(/ASCII/);
    expect(crateNameProblem('a'.repeat(65))).toMatch(/longer/);
    expect(crateNameProblem('CON')).toMatch(/reserved/);
    expect(crateNameProblem(42)).toMatch(/empty/);
  });

  it('parses and orders semantic versions', () => {
    expect(parseVersion('1.2.3-alpha.1+build.5')).toEqual({ major: 1, minor: 2, patch: 3, pre: ['alpha', 1] });
    for (const bad of ['1.2', '01.2.3', '1.2.3-', 'v1.2.3', '1.2.3.4', '']) expect(parseVersion(bad)).toBeUndefined();
    const sorted = ['1.0.0', '1.0.0-alpha', '0.9.10', '1.0.0-alpha.1', '0.9.9', '1.0.0-beta', '1.0.0-alpha.beta'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '0.9.10', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0']);
  });

  it('classifies stored paths', () => {
    expect(cratePath('Foo-Bar', '1.0.0')).toBe('crates/foo-bar/foo-bar-1.0.0.crate');
    expect(classifyStored('crates/foo-bar/foo-bar-1.0.0-rc.1.crate')).toEqual({ kind: 'crate', name: 'foo-bar', version: '1.0.0-rc.1' });
    expect(classifyStored(recordPath('foo', '2.0.0'))).toEqual({ kind: 'record', name: 'foo', version: '2.0.0' });
    expect(classifyStored('crates/foo')).toEqual({ kind: 'crate-folder', name: 'foo' });
    expect(classifyStored('crates/foo/bar-1.0.0.crate')).toEqual({ kind: 'other' });
    expect(classifyStored('.index/3/f/foo')).toEqual({ kind: 'other' });
  });

  it('makes download URLs from dl, with and without markers', () => {
    expect(downloadUrl('https://h/api/cargo/r/v1/crates', 'Foo', '1.0.0')).toBe('https://h/api/cargo/r/v1/crates/Foo/1.0.0/download');
    expect(downloadUrl('https://h/{prefix}/{lowerprefix}/{crate}-{version}.crate?s={sha256-checksum}', 'Serde', '1.0.0', 'ab')).toBe('https://h/Se/rd/se/rd/Serde-1.0.0.crate?s=ab');
    expect(downloadUrl('https://h/{prefix}/{crate}', 'abc', '1.0.0')).toBe('https://h/3/a/abc');
  });
});
