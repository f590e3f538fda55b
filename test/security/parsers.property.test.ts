/**
 * Property-based tests (issue 12, "How it is checked") of every parser that turns request
 * text into a name or a path. For arbitrary strings — full Unicode, `..` in every spelling,
 * encoded slashes, NUL, backslashes, very long inputs — two properties hold:
 *
 * - never a 5xx: each parser returns a value or throws an ArcaError whose status is 4xx;
 * - never a path outside the store: every accepted name maps to a storage path that stays
 *   inside its repository (relative, no empty, `.` or `..` segment, no NUL or control
 *   character, segments and length the database holds).
 *
 * The counterexamples found are kept as plain regression cases at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSegment, normalizeRelPath, parseRepoPath } from '../../src/core/paths.js';
import { blobLinkPath, digestFolder, referrerLinkPath, tagFolder, uploadPartPath } from '../../src/formats/oci/layout.js';
import { isValidName, parseDigest, parseReference, splitName } from '../../src/formats/oci/reference.js';
import { foldersOf, metadataLocation, parseArtifactPath } from '../../src/formats/maven/maven-layout.js';
import { documentPath, parsePackageName, splitPackagePath, tarballPath, versionOfTarball } from '../../src/formats/npm/names.js';
import { distTagProblem } from '../../src/formats/npm/semver.js';
import { packPackage, publishBody, publishRequestOf } from '../../src/formats/npm/testing/pack.js';
import { parseDistributionFilename } from '../../src/formats/pypi/filenames.js';
import { isValidProjectName, normalizeProjectName } from '../../src/formats/pypi/names.js';
import { normalizeVersion } from '../../src/formats/pypi/versions.js';
import { targetOf } from '../../src/formats/oci/routes/oci.js';
import {
  flagDefaultOn,
  formDecode,
  MAX_PROPERTY_KEY,
  MAX_PROPERTY_VALUE,
  nonNegativeInt,
  parsePropertiesParam,
  parsePropertyKeys,
  rawQuery,
} from '../../src/http/routes/storage/params.js';
import { checkName } from '../../src/security/validation.js';
import { validateRepoKey } from '../../src/services/repositories.js';
import { artifactNamePattern, checksumCriteria, propertyCriteria, reposParam } from '../../src/services/search.js';
import {
  Acceptance,
  assertInside,
  attempt,
  attemptAsync,
  evilString,
  nameish,
  segmentPath,
  storagePathProblem,
  tokenString,
} from './name-arbitraries.js';
import { distributionFilename, mavenLayoutPath, npmName, ociDigest, ociName, ociReference, pep440, propertyString, pypiProject, semver } from './format-arbitraries.js';

/** Runs per property; ARCA_PROPERTY_RUNS scales them (e.g. 10 for a long soak). */
const SCALE = Number(process.env.ARCA_PROPERTY_RUNS ?? 1) || 1;
const RUNS = 3000;
/** Checks a property with the file's run count (scaled by ARCA_PROPERTY_RUNS); an asynchronous one returns a promise. */
function run(property: fc.IProperty<any>, numRuns?: number): void;
function run(property: fc.IAsyncProperty<any>, numRuns?: number): Promise<void>;
function run(property: fc.IProperty<any> | fc.IAsyncProperty<any>, numRuns = RUNS): void | Promise<void> {
  const params = { numRuns: Math.round(numRuns * SCALE) };
  return 'isAsync' in property && property.isAsync() ? fc.assert(property as fc.IAsyncProperty<any>, params) : fc.assert(property as fc.IProperty<any>, params);
}

/** Every property a request can set must be storable: the rules of the storage API's keys and values. */
function assertStorableProperties(props: Record<string, string[]>, input: unknown): void {
  for (const [key, values] of Object.entries(props)) {
    // eslint-disable-next-line no-control-regex
    const keyOk = key !== '' && key.length <= MAX_PROPERTY_KEY && !/[\s\u0000-\u001f\u007f=;,]/.test(key);
    if (!keyOk) throw new Error(`property key ${JSON.stringify(key.slice(0, 80))} (${key.length} chars) is not storable; input ${JSON.stringify(input)}`);
    for (const v of values) {
      if (v.includes('\u0000') || v.length > MAX_PROPERTY_VALUE) {
        throw new Error(`property value of ${v.length} chars for '${key}' is not storable; input ${JSON.stringify(input)}`);
      }
    }
  }
}

describe('the storage-path oracle itself', () => {
  it('tells paths inside a repository from paths that leave it', () => {
    for (const good of ['a', 'a/b.txt', 'a/..b/c', '.npm/x/package.json', `${'x'.repeat(255)}/y`]) expect(storagePathProblem(good), good).toBeUndefined();
    for (const bad of ['', '/a', 'a//b', 'a/../b', '..', './a', 'a\\b', 'a\u0000b', 'a/', 'x'.repeat(256), 'é'.repeat(128), 'a/'.repeat(600)]) {
      expect(storagePathProblem(bad), JSON.stringify(bad)).toBeDefined();
    }
  });
});

describe('artifact paths (core/paths.ts)', () => {
  /** A raw request path after `/artifactory/`: a repository key, segments, matrix parameters, a query. */
  const rawRequestPath = fc
    .tuple(
      nameish(/^[a-z0-9-]{1,12}$/),
      fc.array(fc.tuple(nameish(), fc.option(fc.oneof(tokenString(6), propertyString), { nil: undefined })), { maxLength: 8 }),
      fc.boolean(),
      fc.option(evilString, { nil: undefined }),
    )
    .map(([repo, segs, slash, query]) => {
      const body = segs.map(([s, m]) => (m === undefined ? s : `${s};${m}`)).join('/');
      return `${repo}/${body}${slash ? '/' : ''}${query === undefined ? '' : `?${query}`}`;
    });

  it('parseRepoPath: a value or a 4xx; every accepted path stays inside the repository and every matrix parameter is storable', () => {
    const seen = new Acceptance();
    run(
      fc.property(fc.oneof(rawRequestPath, evilString, segmentPath(nameish(), 12)), (raw) => {
        const out = attempt(() => parseRepoPath(raw));
        seen.note(out.ok);
        if (!out.ok) return;
        const { repoKey, path, matrix } = out.value;
        expect(storagePathProblem(repoKey), `repo key of ${JSON.stringify(raw)}`).toBeUndefined();
        expect(repoKey.includes('/')).toBe(false);
        assertInside(path, raw, { root: true });
        expect(normalizeRelPath(path)).toBe(path);
        assertStorableProperties(matrix, raw);
      }),
      6000,
    );
    seen.assertBoth(200);
  });

  it('parseRepoPath reads matrix parameters form-encoded, as Artifactory does: + is a space, %2B a plus', () => {
    // The JFrog CLI writes `--props "note=a b;type=image/svg+xml"` with Go's QueryEscape.
    expect(parseRepoPath('r/f.txt;note=a+b;type=image%2Fsvg%2Bxml;k%2Bx=1').matrix).toEqual({ note: ['a b'], type: ['image/svg+xml'], 'k+x': ['1'] });
    // In the path itself a plus stays a plus.
    expect(parseRepoPath('r/c++/a+b.txt').path).toBe('c++/a+b.txt');
  });

  it('normalizeRelPath and checkSegment: a value or a 4xx; the value is canonical and inside', () => {
    const seen = new Acceptance();
    run(
      fc.property(fc.oneof(evilString, segmentPath()), (p) => {
        const out = attempt(() => normalizeRelPath(p));
        seen.note(out.ok);
        if (out.ok) {
          assertInside(out.value, p, { root: true });
          expect(normalizeRelPath(out.value)).toBe(out.value);
        }
        // checkSegment sees segments already split on '/' and without empty ones.
        if (p !== '' && !p.includes('/') && attempt(() => checkSegment(p)).ok) assertInside(p, p);
      }),
    );
    seen.assertBoth(100);
  });
});

describe('repository keys', () => {
  it('validateRepoKey accepts only keys that are one safe segment the database holds (64 characters)', () => {
    const seen = new Acceptance();
    run(
      fc.property(fc.oneof(nameish(/^[A-Za-z0-9._-]{1,70}$/), evilString), (key) => {
        const out = attempt(() => validateRepoKey(key));
        seen.note(out.ok);
        if (!out.ok) return;
        assertInside(key, key);
        expect(key.length).toBeLessThanOrEqual(64);
        expect(key.includes('/')).toBe(false);
      }),
    );
    seen.assertBoth(100);
  });

  it('user and group names (checkName) are one safe segment of at most 64 characters', () => {
    run(
      fc.property(fc.oneof(nameish(/^[^/]{1,70}$/), evilString), (name) => {
        const out = attempt(() => checkName(name, 'user'));
        if (!out.ok) return;
        assertInside(name, name);
        expect(name.length).toBeLessThanOrEqual(64);
      }),
    );
  });
});

describe('npm package names (formats/npm/names.ts)', () => {
  it('parsePackageName: a value or a 4xx; the document path of an accepted name stays inside', () => {
    const seen = new Acceptance();
    run(
      fc.property(npmName, (name) => {
        const out = attempt(() => parsePackageName(name));
        seen.note(out.ok);
        if (!out.ok) return;
        assertInside(documentPath(out.value.name), name);
        assertInside(out.value.name, name);
      }),
    );
    seen.assertBoth(100);
  });

  it('parsePublish: a value or a 4xx; the tarball of an accepted publish maps to a path inside the repository', async () => {
    const seen = new Acceptance();
    await run(
      fc.asyncProperty(npmName, semver, fc.oneof(fc.constant('latest'), evilString), async (name, version, tag) => {
        const body = publishBody(packPackage({ name, version }), { tag });
        const out = await attemptAsync(() => publishRequestOf(body, name));
        seen.note(out.ok);
        if (out.ok) assertInside(tarballPath(out.value.name, out.value.version), { name, version });
      }),
      800,
    );
    seen.assertBoth(50);
  });

  it('splitPackagePath and versionOfTarball: a value or a 4xx; a tarball named in a URL maps to a path inside', () => {
    const seen = new Acceptance();
    const registryPath = fc.oneof(
      segmentPath(nameish(/^[@a-z0-9._-]{1,20}$/)),
      fc.tuple(npmName, fc.array(nameish(/^[a-z0-9._-]{1,30}(\.tgz)?$/), { maxLength: 4 })).map(([n, rest]) => [n.replace('/', '%2f'), '-', ...rest].join('/')),
      fc.tuple(npmName, semver, tokenString(6)).map(([n, v, extra]) => `${n}/-/${n.split('/').pop()}-${v}${extra}.tgz`),
      evilString,
    );
    run(
      fc.property(registryPath, (raw) => {
        const out = attempt(() => splitPackagePath(raw));
        if (!out.ok) return;
        const { name, rest } = out.value;
        assertInside(documentPath(name), raw);
        if (rest[0] !== '-' || rest.length < 2) return;
        const file = rest.slice(1).join('/');
        const version = versionOfTarball(parsePackageName(name), file);
        seen.note(version !== undefined);
        if (version !== undefined) assertInside(tarballPath(name, version), raw);
      }),
    );
    seen.assertBoth(20);
  });

  it('distTagProblem never throws', () => {
    run(fc.property(evilString, (tag) => void distTagProblem(tag)));
  });
});

describe('PyPI file and project names (formats/pypi)', () => {
  it('parseDistributionFilename never throws; an accepted file maps to paths inside the repository (the file and its .metadata)', () => {
    const seen = new Acceptance();
    run(
      fc.property(distributionFilename, fc.option(pep440, { nil: undefined }), (name, hint) => {
        const parsed = parseDistributionFilename(name, hint);
        seen.note(parsed.ok);
        if (!parsed.ok) return;
        const f = parsed.file;
        const path = `${f.project}/${f.normalizedVersion}/${f.filename}`;
        assertInside(path, name);
        if (f.kind === 'wheel') assertInside(`${path}.metadata`, name);
      }),
    );
    seen.assertBoth(100);
  });

  it('a valid project name normalises to one safe segment; any version normalises to one or is refused', () => {
    const seen = new Acceptance();
    run(
      fc.property(pypiProject, pep440, (name, v) => {
        seen.note(isValidProjectName(name));
        if (isValidProjectName(name)) assertInside(normalizeProjectName(name), name);
        const n = normalizeVersion(v);
        if (n !== undefined) assertInside(n, v);
      }),
    );
    seen.assertBoth(100);
  });
});

describe('Maven coordinates and layout (formats/maven/maven-layout.ts)', () => {
  it('parseArtifactPath: the artifact and version folders of an accepted path are the folders the file is in', () => {
    const seen = new Acceptance();
    run(
      fc.property(fc.oneof({ arbitrary: mavenLayoutPath, weight: 4 }, { arbitrary: segmentPath(), weight: 1 }), (raw) => {
        // The artifact routes hand the layout only paths that parseRepoPath accepted.
        const norm = attempt(() => normalizeRelPath(raw));
        if (!norm.ok || norm.value !== raw) return;
        const art = parseArtifactPath(raw);
        seen.note(art !== undefined);
        if (art) {
          const { artifactFolder, versionFolder } = foldersOf(art);
          assertInside(artifactFolder, raw);
          assertInside(versionFolder, raw);
          assertInside(`${artifactFolder}/maven-metadata.xml`, raw);
          expect(`${versionFolder}/${raw.split('/').pop()}`).toBe(raw);
        }
        const meta = metadataLocation(raw);
        if (meta) assertInside(meta.folder, raw, { root: true });
      }),
    );
    seen.assertBoth(100);
  });
});

describe('OCI names, references and digests (formats/oci/reference.ts, formats/oci/routes/oci.ts)', () => {
  it('parseDigest and parseReference: a value or a 4xx; an image and reference map to folders inside the repository', () => {
    const seen = new Acceptance();
    run(
      fc.property(ociName, ociReference, ociDigest, (name, ref, d) => {
        const parsed = attempt(() => parseReference(ref));
        const image = isValidName(name);
        seen.note(parsed.ok && image);
        const dg = attempt(() => parseDigest(d));
        if (!image) return;
        if (parsed.ok) assertInside(parsed.value.kind === 'tag' ? tagFolder(name, parsed.value.tag) : digestFolder(name, parsed.value.digest), { name, ref });
        if (dg.ok) {
          assertInside(blobLinkPath(name, dg.value), { name, d });
          assertInside(uploadPartPath(name, '123e4567-e89b-12d3-a456-426614174000', 1 << 20), name);
          assertInside(referrerLinkPath(name, dg.value, dg.value), { name, d });
        }
      }),
    );
    seen.assertBoth(100);
  });

  it('targetOf and splitName: a value or a 4xx for any path after /v2/', () => {
    const tail = fc.oneof(
      fc.tuple(ociName, fc.constantFrom('manifests', 'blobs', 'blobs/uploads', 'tags', 'referrers', '_catalog', 'token'), ociReference).map(([n, op, r]) => `${n}/${op}/${r}`),
      segmentPath(nameish(/^[a-z0-9._:-]{1,12}$/)),
      evilString,
    );
    run(
      fc.property(tail, fc.boolean(), (t, scoped) => {
        const out = attempt(() => targetOf(t, scoped));
        if (!out.ok) return;
        const target = out.value;
        if ('name' in target) attempt(() => splitName(target.name));
      }),
    );
  });
});

describe('property strings (http/routes/storage/params.ts) and search criteria', () => {
  it('parsePropertiesParam and parsePropertyKeys: a value or a 4xx; every accepted property is storable', () => {
    const seen = new Acceptance();
    run(
      fc.property(propertyString, (raw) => {
        const out = attempt(() => parsePropertiesParam(raw));
        seen.note(out.ok);
        if (out.ok) assertStorableProperties(out.value, raw);
        const keys = attempt(() => parsePropertyKeys(raw));
        if (keys.ok) assertStorableProperties(Object.fromEntries(keys.value.map((k) => [k, []])), raw);
      }),
    );
    seen.assertBoth(100);
  });

  it('query helpers: a value or a 4xx for any query string', () => {
    run(
      fc.property(evilString, evilString, (q, v) => {
        attempt(() => rawQuery(`/x?${q}`));
        attempt(() => formDecode(q));
        attempt(() => flagDefaultOn({ recursive: v }, 'recursive'));
        attempt(() => nonNegativeInt({ depth: v }, 'depth'));
      }),
    );
  });

  it('search criteria: a value or a 4xx for any name, property or checksum', () => {
    run(
      fc.property(evilString, evilString, fc.array(fc.tuple(evilString, evilString), { maxLength: 3 }), (name, sum, params) => {
        attempt(() => artifactNamePattern(name));
        attempt(() => checksumCriteria({ sha1: sum, md5: name }));
        attempt(() => propertyCriteria(params));
        attempt(() => reposParam(name));
      }),
    );
  });
});

describe('regressions: counterexamples the properties found', () => {
  it('a matrix parameter or property named __proto__ is a property like any other, not a TypeError', () => {
    expect(parseRepoPath('generic-local/a.txt;__proto__=x').matrix).toEqual(JSON.parse('{"__proto__":["x"]}'));
    expect(Object.keys(parsePropertiesParam('__proto__=x'))).toEqual(['__proto__']);
    expect(Object.keys(parsePropertiesParam('constructor=a,b'))).toEqual(['constructor']);
  });

  it('a matrix parameter the item store cannot hold is a 400, as in the storage API', () => {
    for (const raw of ['0/-;\u0001', `r/x;${'k'.repeat(256)}=v`, `r/x;k=${'v'.repeat(4001)}`, 'r/x;a%20b=v', 'r/x;a%3Bb=v']) {
      expect(attempt(() => parseRepoPath(raw)), raw.slice(0, 40)).toEqual({ ok: false, status: 400 });
    }
  });

  it('distTagProblem answers for a lone surrogate instead of throwing URIError', () => {
    expect(distTagProblem('\ud800')).toContain('URL-safe');
    expect(distTagProblem('\udfff')).toContain('URL-safe');
    expect(distTagProblem('next')).toBeUndefined();
  });

  it('a tarball file name names a semantic version, never a backslash or a slash', () => {
    const pkg = parsePackageName('a');
    expect(versionOfTarball(pkg, 'a-\\.tgz')).toBeUndefined();
    expect(versionOfTarball(pkg, 'a-1.0.0/../../x.tgz')).toBeUndefined();
    expect(versionOfTarball(pkg, 'a-__proto__.tgz')).toBeUndefined();
    expect(versionOfTarball(pkg, 'a-1.0.0.tgz')).toBe('1.0.0');
    expect(versionOfTarball(parsePackageName('@s/a'), '@s/a-1.0.0-rc.1.tgz')).toBe('1.0.0-rc.1');
  });

  it('a publish whose tarball file name would exceed 255 bytes is a 400', async () => {
    const name = 'a'.repeat(200);
    const version = `1.0.0-${'b'.repeat(60)}`;
    expect(await attemptAsync(() => publishRequestOf(publishBody(packPackage({ name, version })), name))).toEqual({ ok: false, status: 400 });
    expect((await attemptAsync(() => publishRequestOf(publishBody(packPackage({ name, version: '1.0.0' })), name))).ok).toBe(true);
  });

  it('a wheel whose {file}.metadata would exceed 255 bytes is refused', () => {
    const long = `${'a'.repeat(200)}-${'0.'.repeat(14)}0-py3-none-any.whl`;
    expect(long.length).toBe(247); // {file}.metadata: 256 bytes
    expect(parseDistributionFilename(long).ok).toBe(false);
    expect(parseDistributionFilename(long.replace('0.0.', '')).ok).toBe(true);
  });

  it('Maven metadata goes in the folder the artifact is in, whatever dots its group folders hold', () => {
    expect(foldersOf(parseArtifactPath('.x/a/0/a-0.jar')!)).toEqual({ artifactFolder: '.x/a', versionFolder: '.x/a/0' });
    expect(foldersOf(parseArtifactPath('a./0/0/0/0-0.jar')!)).toEqual({ artifactFolder: 'a./0/0', versionFolder: 'a./0/0/0' });
    expect(foldersOf(parseArtifactPath('org/example/lib/1.0/lib-1.0.jar')!)).toEqual({ artifactFolder: 'org/example/lib', versionFolder: 'org/example/lib/1.0' });
  });
});
