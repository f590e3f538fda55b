import { describe, expect, it } from 'vitest';
import { gemspecYaml } from '../../../test/helpers/gems-fixtures.js';
import { parseGemspec } from './gem-file.js';
import { compactVersions, infoLine, md5Hex, mergeInfo, mergeVersions, namesFile, newVersionsFile, parseVersions, updateInfo, versionsLine, VERSIONS_SLACK } from './index-files.js';

/** The compact index files, in the shapes rubygems/compact_index writes and bundler reads. */

const sha = 'a'.repeat(64);

describe('compact index', () => {
  it('writes info lines as rubygems.org does (runtime dependencies, sorted requirements)', () => {
    const spec = parseGemspec(gemspecYaml({ name: 'g', version: '1.0.0', dependencies: { rack: '>= 2.0, < 4', json: '~> 2.1' } }));
    expect(infoLine(spec, sha)).toBe(`1.0.0 rack:< 4&>= 2.0,json:~> 2.1|checksum:${sha},ruby:>= 2.0`);
    const plain = parseGemspec(gemspecYaml({ name: 'g', version: '2.0.0', platform: 'java' }));
    expect(infoLine({ ...plain, requiredRubyVersion: [['>=', '0']] }, sha)).toBe(`2.0.0-java |checksum:${sha}`);
  });

  it('replaces, adds and removes one version in an info file', () => {
    let info = updateInfo(undefined, '1.0.0', '1.0.0 |checksum:1');
    info = updateInfo(info, '1.1.0', '1.1.0 |checksum:2');
    info = updateInfo(info, '1.0.0', '1.0.0 |checksum:3');
    expect(info).toBe('---\n1.1.0 |checksum:2\n1.0.0 |checksum:3\n');
    expect(updateInfo(info, '1.1.0', undefined)).toBe('---\n1.0.0 |checksum:3\n');
  });

  it('reads an appended versions file as bundler does (yanks remove, the last checksum wins)', () => {
    const file = newVersionsFile(Date.UTC(2024, 0, 1)) + versionsLine('a', ['1.0.0'], 'c1') + versionsLine('b', ['0.1.0'], 'c2') + versionsLine('a', ['1.1.0'], 'c3') + versionsLine('a', ['-1.0.0'], 'c4');
    expect(file.startsWith('created_at: 2024-01-01T00:00:00Z\n---\n')).toBe(true);
    const index = parseVersions(file);
    expect(index.gems.get('a')).toEqual({ keys: ['1.1.0'], checksum: 'c4' });
    expect(namesFile(index)).toBe('---\na\nb\n');
    expect(namesFile(parseVersions(file + versionsLine('b', ['-0.1.0'], 'c5')))).toBe('---\na\n');
  });

  it('merges members for a virtual repository', () => {
    const one = newVersionsFile(0) + versionsLine('a', ['1.0.0'], 'x') + versionsLine('only-one', ['1.0'], 'keep');
    const two = newVersionsFile(0) + versionsLine('a', ['1.0.0', '2.0.0'], 'y');
    const merged = parseVersions(mergeVersions([one, two], 0));
    expect(merged.gems.get('a')).toEqual({ keys: ['1.0.0', '2.0.0'], checksum: md5Hex('x,y') });
    expect(merged.gems.get('only-one')?.checksum).toBe('keep');
    expect(mergeInfo(['---\n1.0.0 |checksum:local\n', '---\n1.0.0 |checksum:remote\n2.0.0 |checksum:r2\n'])).toBe('---\n1.0.0 |checksum:local\n2.0.0 |checksum:r2\n');
  });

  it('compacts a versions file once its appended lines outnumber its gems', () => {
    let file = newVersionsFile(0) + versionsLine('a', ['1.0.0'], 'c0');
    for (let i = 1; i <= VERSIONS_SLACK; i++) file += versionsLine('b', [`0.${i}`], `c${i}`);
    expect(compactVersions(file, 0)).toBe(file);
    file += versionsLine('b', ['-0.1'], 'c-1');
    file += versionsLine('b', ['-0.2'], 'last');
    file += versionsLine('gone', ['-1.0'], 'x');
    const compact = compactVersions(file, Date.UTC(2025, 0, 1));
    expect(compact.split('\n').slice(0, 3)).toEqual(['created_at: 2025-01-01T00:00:00Z', '---', 'a 1.0.0 c0']);
    expect(parseVersions(compact).gems.get('b')).toEqual(parseVersions(file).gems.get('b'));
    expect(compact).not.toContain('gone');
  });
});
