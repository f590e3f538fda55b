/**
 * `npm publish`: the PUT body (a packument with one version and the tarball as a base64
 * attachment) checked before anything is stored. The body arrives through
 * publish-body.ts, which streams the tarball to staging and learns its digests and its
 * package.json on the way; this module checks the document against them.
 */
import { ArcaError } from '../../core/errors.js';
import { checkItemPath } from '../../core/paths.js';
import { checkTarball, type TarballDigests } from './integrity.js';
import { parsePackageName, tarballFileName, tarballPath } from './names.js';
import type { VersionManifest } from './packument.js';
import { distTagProblem, parseSemver } from './semver.js';

export interface PublishRequest {
  name: string;
  version: string;
  /** The version object to store (dist filled in, `dist.tarball` repository-relative). */
  manifest: VersionManifest;
  /** Tags the publish sets (npm sends `{ [--tag or 'latest']: version }`). */
  distTags: Record<string, string>;
}

/** What the body reader learnt of the attachment while it streamed. */
export interface TarballFacts {
  /** The attachment's name. */
  key: string;
  size: number;
  digests: TarballDigests;
  /** The tarball's root package.json. */
  manifest: Record<string, unknown>;
}

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The attachment in the parsed document: the one that streamed (its data left as ""), and its declared length. */
function checkAttachment(key: string, att: unknown, tarball: TarballFacts | undefined): TarballFacts {
  // The streamed data string is "" in the parsed document; anything else is a second value under the same key.
  if (!isObject(att) || att.data !== '' || !tarball || tarball.key !== key) throw bad(`Attachment '${key}' has no base64 'data'`);
  if (att.length !== undefined && att.length !== tarball.size) {
    throw bad(`Attachment '${key}' declares ${String(att.length)} bytes but holds ${tarball.size}`);
  }
  return tarball;
}

/** Scripts that make npm run code at install time. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/**
 * Checks a publish body for the package named in the URL: exactly one version, a valid
 * semver, name and version matching the URL, the manifest and the tarball's own
 * package.json, one `.tgz` attachment whose integrity and shasum match the declared ones.
 * `tarball` is what streamed out of the body's attachment.
 */
export function parsePublish(body: unknown, urlName: string, tarball: TarballFacts | undefined): PublishRequest {
  if (!isObject(body)) throw bad('The publish body must be a JSON object');
  const name = body.name;
  if (typeof name !== 'string') throw bad("The publish body has no 'name'");
  if (name !== urlName) throw bad(`The package name in the body ('${name}') does not match the URL ('${urlName}')`);
  if (body._id !== undefined && body._id !== name) throw bad(`'_id' ('${String(body._id)}') does not match the package name ('${name}')`);
  parsePackageName(name);

  if (!isObject(body.versions)) throw bad("The publish body has no 'versions' object");
  const versionKeys = Object.keys(body.versions);
  if (versionKeys.length !== 1) throw bad(`A publish carries exactly one version, this one carries ${versionKeys.length}`);
  const version = versionKeys[0];
  if (!parseSemver(version)) throw bad(`Invalid version '${version}': not a valid semantic version`);
  // A long name with a long version makes a tarball file name no file system (or the items table) holds.
  checkItemPath(tarballPath(name, version));
  const raw = body.versions[version];
  if (!isObject(raw)) throw bad(`Version '${version}' is not an object`);
  if (raw.name !== name) throw bad(`The version object names '${String(raw.name)}', the package is '${name}'`);
  if (raw.version !== version) throw bad(`The version object says '${String(raw.version)}' under the key '${version}'`);

  if (!isObject(body._attachments)) throw bad('The publish body has no _attachments: the tarball is missing');
  const tarballs = Object.keys(body._attachments).filter((k) => k.endsWith('.tgz'));
  if (tarballs.length !== 1) throw bad(`A publish carries exactly one .tgz attachment, this one carries ${tarballs.length}`);
  if (Object.keys(body._attachments).length !== 1) throw bad('A publish carries exactly one attachment (the package tarball)');
  const expected = tarballFileName(name, version);
  const key = tarballs[0];
  const short = parsePackageName(name).base;
  if (key !== expected && key !== `${short}-${version}.tgz`) throw bad(`The attachment '${key}' does not match the version: expected '${expected}'`);
  const facts = checkAttachment(key, body._attachments[key], tarball);

  const rawDist = isObject(raw.dist) ? raw.dist : {};
  const checked = checkTarball(facts.digests, rawDist, `${name}@${version}`);
  const inside = facts.manifest;
  if (inside.name !== name || inside.version !== version) {
    throw bad(`The tarball's package.json is ${String(inside.name)}@${String(inside.version)}, the publish is ${name}@${version}`);
  }

  const distTags: Record<string, string> = {};
  if (body['dist-tags'] !== undefined) {
    if (!isObject(body['dist-tags'])) throw bad("'dist-tags' must be an object");
    for (const [tag, v] of Object.entries(body['dist-tags'])) {
      const problem = distTagProblem(tag);
      if (problem) throw bad(`Invalid dist-tag: ${problem}`);
      if (v !== version) throw bad(`dist-tag '${tag}' points at '${String(v)}', but this publish is version ${version}`);
      distTags[tag] = version;
    }
  }

  const manifest: VersionManifest = {
    ...(raw as Record<string, unknown>),
    name,
    version,
    _id: `${name}@${version}`,
    dist: { ...rawDist, integrity: checked.integrity, shasum: checked.shasum, tarball: tarballPath(name, version) },
  };
  const scripts = isObject(raw.scripts) ? raw.scripts : {};
  if (INSTALL_SCRIPTS.some((s) => typeof scripts[s] === 'string')) manifest.hasInstallScript = true;
  return { name, version, manifest, distTags };
}
