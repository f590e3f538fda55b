import { describe, expect, it } from 'vitest';
import { metadataLocation, metadataTimestamp, parseArtifactPath, snapshotTimestamp } from './maven-layout.js';
import { compareVersions, sortVersions } from './maven-version.js';

describe('maven layout', () => {
  it('parses release artifacts with and without classifiers and compound extensions', () => {
    expect(parseArtifactPath('org/example/lib/1.2.3/lib-1.2.3.jar')).toEqual({
      groupId: 'org.example', groupPath: 'org/example', artifactId: 'lib', baseVersion: '1.2.3', version: '1.2.3', classifier: '', extension: 'jar', snapshot: false, timestamp: undefined, buildNumber: undefined,
    });
    expect(parseArtifactPath('org/example/lib/1.2.3/lib-1.2.3-sources.jar')).toMatchObject({ classifier: 'sources', extension: 'jar' });
    expect(parseArtifactPath('org/example/lib/1.2.3/lib-1.2.3.tar.gz')).toMatchObject({ classifier: '', extension: 'tar.gz' });
    expect(parseArtifactPath('org/example/lib/1.2.3/lib-1.2.3-bin.tar.gz')).toMatchObject({ classifier: 'bin', extension: 'tar.gz' });
    expect(parseArtifactPath('org/example/lib/1.2.3/lib-1.2.3.pom')).toMatchObject({ extension: 'pom' });
    // An artifactId with dashes, a version with dashes.
    expect(parseArtifactPath('g/my-lib/1.0-rc-1/my-lib-1.0-rc-1-tests.jar')).toMatchObject({ artifactId: 'my-lib', version: '1.0-rc-1', classifier: 'tests' });
  });

  it('parses unique and non-unique SNAPSHOT files', () => {
    expect(parseArtifactPath('com/acme/app/2.0-SNAPSHOT/app-2.0-20240102.030405-7.jar')).toMatchObject({
      baseVersion: '2.0-SNAPSHOT', version: '2.0-20240102.030405-7', timestamp: '20240102.030405', buildNumber: 7, snapshot: true, extension: 'jar',
    });
    expect(parseArtifactPath('com/acme/app/2.0-SNAPSHOT/app-2.0-20240102.030405-7-javadoc.jar')).toMatchObject({ classifier: 'javadoc', buildNumber: 7 });
    expect(parseArtifactPath('com/acme/app/2.0-SNAPSHOT/app-2.0-SNAPSHOT.pom')).toMatchObject({ version: '2.0-SNAPSHOT', timestamp: undefined, extension: 'pom' });
  });

  it('rejects paths outside the layout', () => {
    for (const p of ['a.jar', 'g/a/1.0/other-1.0.jar', 'g/a/1.0/a-2.0.jar', 'g/a/1.0/a-1.0', 'g/a/1.0/a-1.0-.jar', 'g/a/1.0/maven-metadata.xml', 'g/a/1.0-SNAPSHOT/a-1.0-2024.jar']) {
      expect(parseArtifactPath(p), p).toBeUndefined();
    }
  });

  it('locates metadata files', () => {
    expect(metadataLocation('org/ex/lib/maven-metadata.xml')).toEqual({ level: 'artifact', folder: 'org/ex/lib' });
    expect(metadataLocation('org/ex/lib/1.0-SNAPSHOT/maven-metadata.xml')).toEqual({ level: 'version', folder: 'org/ex/lib/1.0-SNAPSHOT', baseVersion: '1.0-SNAPSHOT' });
    expect(metadataLocation('org/maven-metadata.xml')).toEqual({ level: 'other', folder: 'org' });
    expect(metadataLocation('org/ex/lib/1.0/lib-1.0.jar')).toBeUndefined();
  });

  it('formats timestamps in UTC', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5);
    expect(snapshotTimestamp(t)).toBe('20240102.030405');
    expect(metadataTimestamp(t)).toBe('20240102030405');
  });
});

describe('maven version order', () => {
  it('orders numbers numerically and qualifiers by rank', () => {
    expect(sortVersions(['1.10', '1.2', '1.0-SNAPSHOT', '1.0', '1.0-beta-2', '1.0-alpha-1', '1.0-rc1', '1.0.1', '1.0-sp1', '2.0-M1'])).toEqual([
      '1.0-alpha-1', '1.0-beta-2', '1.0-rc1', '1.0-SNAPSHOT', '1.0', '1.0-sp1', '1.0.1', '1.2', '1.10', '2.0-M1',
    ]);
  });
  it('treats trailing zeros and release markers as equal', () => {
    expect(compareVersions('1.0', '1')).toBe(0);
    expect(compareVersions('1.0.0', '1-ga')).toBe(0);
    expect(compareVersions('1.0-final', '1.0')).toBe(0);
    expect(compareVersions('2', '10')).toBeLessThan(0);
  });
});
