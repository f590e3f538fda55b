/**
 * Generators of the names each package format takes from a request, mostly well-formed (so
 * the properties about accepted names are exercised) and sometimes hostile (evilString).
 */
import fc from 'fast-check';
import { encodeText, evilString, nameish, segmentPath, tokenString } from './name-arbitraries.js';

// npm ------------------------------------------------------------------------------------

export const npmName = fc.oneof(
  fc.stringMatching(/^(@[a-z0-9][a-z0-9._-]{0,20}\/)?[a-z0-9][a-z0-9._-]{0,40}$/),
  fc.tuple(nameish(/^[a-z0-9._-]{1,30}$/), nameish(/^[a-z0-9._-]{1,30}$/)).map(([s, n]) => `@${s}/${n}`),
  fc.stringMatching(/^[a-z][a-z0-9-]{150,213}$/),
  evilString,
);

export const semver = fc.oneof(
  fc.stringMatching(/^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})(-[0-9A-Za-z-]{1,20}(\.[0-9A-Za-z-]{1,20}){0,8})?(\+[0-9A-Za-z-]{1,40})?$/),
  evilString,
);

// PyPI -----------------------------------------------------------------------------------

export const pypiProject = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,30}[A-Za-z0-9])?$/), weight: 4 },
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{190,199}$/), weight: 1 },
  { arbitrary: evilString, weight: 2 },
);

export const pep440 = fc.oneof(
  {
    arbitrary: fc.stringMatching(
      /^[0-9]{1,4}(\.[0-9]{1,4}){0,30}((a|b|rc|c|alpha|beta|pre|preview)[0-9]{0,3})?(\.post[0-9]{0,3}|-[0-9]{1,3})?(\.dev[0-9]{0,3})?(\+[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,3})?$/,
    ),
    weight: 3,
  },
  { arbitrary: evilString, weight: 1 },
);

const wheelTag = fc.oneof({ arbitrary: fc.stringMatching(/^[A-Za-z0-9_.]{1,30}$/), weight: 4 }, { arbitrary: tokenString(4), weight: 1 });

/** A wheel file name from its parts (name, version, build tag, python, abi, platform). */
export const wheelParts = fc.tuple(pypiProject, pep440, fc.option(fc.stringMatching(/^[0-9][A-Za-z0-9_.]{0,6}$/), { nil: undefined }), wheelTag, wheelTag, wheelTag);

export const wheelName = ([n, v, b, py, abi, plat]: [string, string, string | undefined, string, string, string]) =>
  `${n}-${v}${b === undefined ? '' : `-${b}`}-${py}-${abi}-${plat}.whl`;

export const distributionFilename = fc.oneof(
  wheelParts.map(wheelName),
  fc.tuple(pypiProject, pep440, fc.constantFrom('.tar.gz', '.zip', '.TAR.GZ', '.tar.bz2')).map(([n, v, ext]) => `${n}-${v}${ext}`),
  evilString,
);

// Maven ----------------------------------------------------------------------------------

const groupSegment = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/),
  fc.stringMatching(/^[a-z0-9.]{1,8}$/),
  fc.constantFrom('.x', 'x.', 'a..b', '...', '.', '..', 'org.example'),
);

/** Paths of the Maven 2 layout (group folders, artifact, version folder, file), some with odd group folders. */
export const mavenLayoutPath = fc
  .tuple(
    fc.array(groupSegment, { minLength: 1, maxLength: 5 }),
    fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/),
    fc.stringMatching(/^[0-9]{1,3}(\.[0-9]{1,3}){0,2}(-[a-z0-9]{1,5})?$/),
    fc.boolean(),
    fc.constantFrom('', '-20240101.120000-1', '-SNAPSHOT'),
    fc.constantFrom('', '-sources', '-'),
    fc.constantFrom('.jar', '.pom', '.jar.sha1', '.', 'maven-metadata.xml'),
  )
  .map(([group, artifact, ver, snapshot, fileVersionSuffix, classifier, ext]) => {
    const base = snapshot ? `${ver}-SNAPSHOT` : ver;
    const fileVersion = snapshot && fileVersionSuffix === '-20240101.120000-1' ? `${ver}${fileVersionSuffix}` : base;
    const file = ext === 'maven-metadata.xml' ? ext : `${artifact}-${fileVersion}${classifier}${ext}`;
    return [...group, artifact, base, file].join('/');
  });

// OCI ------------------------------------------------------------------------------------

const ociComponent = fc.stringMatching(/^[a-z0-9]{1,6}((\.|_|__|-{1,2})[a-z0-9]{1,6}){0,2}$/);

/** Image names (the part after the repository key). */
export const ociName = fc.oneof(
  fc.array(ociComponent, { minLength: 1, maxLength: 4 }).map((c) => c.join('/')),
  fc.stringMatching(/^[a-z0-9]{200,260}$/),
  segmentPath(nameish(/^[a-z0-9._-]{1,12}$/), 4),
  evilString,
);

const hex = (n: number) => fc.stringMatching(new RegExp(`^[a-f0-9]{${n}}$`));

export const ociDigest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
  fc.tuple(fc.constantFrom('sha256', 'sha512', 'md5', 'sha256+b64', 'SHA256', ''), fc.oneof(hex(64), evilString)).map(([a, e]) => `${a}:${e}`),
  evilString,
);

export const ociReference = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,130}$/),
  ociDigest,
  fc.constantFrom('_uploads', '_referrers', '..', '.', 'latest'),
);

// Properties -----------------------------------------------------------------------------

/** Names of the members of Object.prototype: as keys of a plain object, they are not what they seem. */
export const prototypeName = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf');

/** Property keys as requests name them: plain, members of Object.prototype, too long, hostile. */
export const propertyKey = fc.oneof(
  { arbitrary: nameish(/^[a-z0-9._-]{1,12}$/), weight: 5 },
  { arbitrary: prototypeName, weight: 2 },
  { arbitrary: fc.stringMatching(/^[a-z]{250,300}$/), weight: 1 },
);

export const propertyValue = fc.oneof(
  { arbitrary: nameish(/^[a-z0-9 ._-]{0,12}$/), weight: 6 },
  { arbitrary: fc.stringMatching(/^[a-z]{3990,4100}$/), weight: 1 },
);

/** The text of `?properties=` and of matrix parameters: `k=v1,v2;k2=v3`, encoded per part or as a whole. */
export const propertyString = fc.oneof(
  fc.array(fc.tuple(propertyKey, fc.array(propertyValue, { maxLength: 3 })), { maxLength: 4 }).map((pairs) =>
    pairs.map(([k, vs]) => `${k}=${vs.join(',')}`).join(';'),
  ),
  fc.array(fc.tuple(fc.oneof(propertyKey, evilString), fc.oneof(propertyValue, evilString)), { maxLength: 3 }).map((pairs) =>
    pairs.map(([k, v]) => `${encodeText(k)}=${encodeText(v)}`).join(';'),
  ),
  evilString,
);
