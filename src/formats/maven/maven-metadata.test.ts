import { describe, expect, it } from 'vitest';
import { mergeMetadata, parseMetadata, renderMetadata } from './maven-metadata.js';
import { parsePom } from './pom.js';

// As Maven 3 writes them (maven-repository-metadata 3.x).
const ARTIFACT = `<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>org.example</groupId>
  <artifactId>lib</artifactId>
  <versioning>
    <latest>1.1</latest>
    <release>1.1</release>
    <versions>
      <version>1.0</version>
      <version>1.1</version>
    </versions>
    <lastUpdated>20240101120000</lastUpdated>
  </versioning>
</metadata>`;

const SNAPSHOT = `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>org.example</groupId>
  <artifactId>lib</artifactId>
  <version>2.0-SNAPSHOT</version>
  <versioning>
    <snapshot>
      <timestamp>20240301.101010</timestamp>
      <buildNumber>3</buildNumber>
    </snapshot>
    <lastUpdated>20240301101010</lastUpdated>
    <snapshotVersions>
      <snapshotVersion>
        <extension>jar</extension>
        <value>2.0-20240301.101010-3</value>
        <updated>20240301101010</updated>
      </snapshotVersion>
      <snapshotVersion>
        <extension>pom</extension>
        <value>2.0-20240301.101010-3</value>
        <updated>20240301101010</updated>
      </snapshotVersion>
    </snapshotVersions>
  </versioning>
</metadata>`;

describe('maven-metadata.xml', () => {
  it('parses artifact and snapshot metadata, keeping versions as strings', () => {
    const a = parseMetadata(ARTIFACT);
    expect(a).toMatchObject({ groupId: 'org.example', artifactId: 'lib', versioning: { latest: '1.1', release: '1.1', versions: ['1.0', '1.1'], lastUpdated: '20240101120000' } });
    const s = parseMetadata(SNAPSHOT);
    expect(s.version).toBe('2.0-SNAPSHOT');
    expect(s.versioning!.snapshot).toEqual({ timestamp: '20240301.101010', buildNumber: 3, localCopy: undefined });
    expect(s.versioning!.snapshotVersions.map((v) => v.extension)).toEqual(['jar', 'pom']);
  });

  it('renders what it parses (round trip)', () => {
    for (const xml of [ARTIFACT, SNAPSHOT]) {
      const m = parseMetadata(xml);
      expect(parseMetadata(renderMetadata(m))).toEqual(m);
    }
  });

  it('refuses malformed XML, another root element, entity declarations', () => {
    expect(() => parseMetadata('<metadata><versioning></metadata>')).toThrow(/Malformed maven-metadata.xml/);
    expect(() => parseMetadata('<project/>')).toThrow(/root element must be <metadata>/);
    expect(() => parseMetadata('<!DOCTYPE m [<!ENTITY x "y">]><metadata>&x;</metadata>')).toThrow(/entity/);
    expect(() => parseMetadata('not xml at all')).toThrow(/Malformed/);
  });

  it('merges copies: union of versions, latest and release recomputed, newest snapshot build', () => {
    const other = parseMetadata(ARTIFACT.replace('<version>1.1</version>', '<version>1.1</version><version>1.2-SNAPSHOT</version><version>0.9</version>').replace('20240101120000', '20240201120000'));
    const merged = mergeMetadata([parseMetadata(ARTIFACT.replace('<version>1.1</version>', '<version>1.1</version><version>1.5</version>')), other]);
    expect(merged.versioning!.versions).toEqual(['0.9', '1.0', '1.1', '1.2-SNAPSHOT', '1.5']);
    expect(merged.versioning!.latest).toBe('1.5');
    expect(merged.versioning!.release).toBe('1.5');
    expect(merged.versioning!.lastUpdated).toBe('20240201120000');
    const newer = parseMetadata(SNAPSHOT.replaceAll('20240301.101010-3', '20240302.080000-4').replace('<timestamp>20240301.101010', '<timestamp>20240302.080000').replace('<buildNumber>3', '<buildNumber>4').replace(/<updated>20240301101010<\/updated>/g, '<updated>20240302080000</updated>'));
    const snap = mergeMetadata([parseMetadata(SNAPSHOT), newer]);
    expect(snap.versioning!.snapshot).toMatchObject({ timestamp: '20240302.080000', buildNumber: 4 });
    expect(snap.versioning!.snapshotVersions.map((v) => v.value)).toEqual(['2.0-20240302.080000-4', '2.0-20240302.080000-4']);
  });
});

describe('POM', () => {
  it('reads coordinates, inheriting groupId and version from the parent', () => {
    expect(parsePom('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>g</groupId><artifactId>a</artifactId><version>1.0</version><packaging>pom</packaging></project>')).toEqual({ groupId: 'g', artifactId: 'a', version: '1.0', packaging: 'pom' });
    expect(parsePom('<project><parent><groupId>pg</groupId><artifactId>p</artifactId><version>2.0</version></parent><artifactId>child</artifactId></project>')).toEqual({ groupId: 'pg', artifactId: 'child', version: '2.0', packaging: 'jar' });
  });
  it('refuses malformed POMs', () => {
    expect(() => parsePom('<project><groupId>g</project>')).toThrow(/Malformed POM/);
    expect(() => parsePom('<metadata/>')).toThrow(/root element must be <project>/);
  });
});
