import { isValidProjectName, normalizeProjectName } from './names.js';
import { isValidVersion, normalizeVersion, sameVersion } from './versions.js';

/**
 * Distribution file names: wheels (PEP 427, binary distribution format) and source
 * distributions (PEP 625 `{name}-{version}.tar.gz`, plus legacy `.zip` and names that still
 * hold dashes). A name that does not parse is refused with the reason.
 */

export type DistributionKind = 'wheel' | 'sdist';

export interface DistributionFile {
  kind: DistributionKind;
  filename: string;
  /** The project name as written in the file name. */
  name: string;
  /** PEP 503 normalised project name. */
  project: string;
  /** The version as written in the file name. */
  version: string;
  /** PEP 440 normalised version (the release folder in the repository). */
  normalizedVersion: string;
  /** Wheels only. */
  buildTag?: string;
  pythonTag?: string;
  abiTag?: string;
  platformTag?: string;
}

export type ParseResult = { ok: true; file: DistributionFile } | { ok: false; reason: string };

const SAFE_FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;
const TAG = /^[A-Za-z0-9_.]+$/;
const SDIST_EXTENSIONS = ['.tar.gz', '.zip'];

const fail = (reason: string): ParseResult => ({ ok: false, reason });

function checkSafe(filename: string): string | undefined {
  if (filename.length === 0) return 'the file name is empty';
  if (filename.length > 255) return 'the file name is longer than 255 characters';
  if (!SAFE_FILENAME.test(filename)) {
    return `'${filename}' holds characters a distribution file name cannot have (letters, digits, '.', '_', '-', '+', '!' only)`;
  }
  return undefined;
}

/** A wheel's PEP 658 metadata is stored beside it as `{file}.metadata`: both names must fit in a path segment. */
const MAX_WHEEL_FILENAME = 255 - '.metadata'.length;

export function parseWheelFilename(filename: string): ParseResult {
  const unsafe = checkSafe(filename);
  if (unsafe) return fail(unsafe);
  if (!filename.endsWith('.whl')) return fail(`'${filename}' is not a wheel: the name must end in .whl`);
  if (filename.length > MAX_WHEEL_FILENAME) return fail(`the wheel file name is longer than ${MAX_WHEEL_FILENAME} characters`);
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) {
    return fail(`'${filename}' is not a valid wheel file name: expected {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`);
  }
  const [name, version] = parts;
  const [pythonTag, abiTag, platformTag] = parts.slice(-3);
  const buildTag = parts.length === 6 ? parts[2] : undefined;
  if (!isValidProjectName(name)) return fail(`'${filename}': '${name}' is not a valid project name`);
  const normalizedVersion = normalizeVersion(version);
  if (normalizedVersion === undefined) return fail(`'${filename}': '${version}' is not a valid PEP 440 version`);
  if (buildTag !== undefined && !/^[0-9][A-Za-z0-9_.]*$/.test(buildTag)) {
    return fail(`'${filename}': the build tag '${buildTag}' must start with a digit`);
  }
  for (const tag of [pythonTag, abiTag, platformTag]) {
    if (!TAG.test(tag)) return fail(`'${filename}': '${tag}' is not a valid compatibility tag`);
  }
  return {
    ok: true,
    file: { kind: 'wheel', filename, name, project: normalizeProjectName(name), version, normalizedVersion, buildTag, pythonTag, abiTag, platformTag },
  };
}

/**
 * Splits `{name}-{version}{ext}`. Legacy names may hold dashes, so every dash is a candidate:
 * the split whose version equals `versionHint` wins, else the last split giving a valid
 * name and version.
 */
export function parseSdistFilename(filename: string, versionHint?: string): ParseResult {
  const unsafe = checkSafe(filename);
  if (unsafe) return fail(unsafe);
  const ext = SDIST_EXTENSIONS.find((e) => filename.toLowerCase().endsWith(e));
  if (!ext) return fail(`'${filename}' is not a source distribution: the name must end in .tar.gz or .zip`);
  const stem = filename.slice(0, -ext.length);
  let chosen: { name: string; version: string } | undefined;
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
    const name = stem.slice(0, i);
    const version = stem.slice(i + 1);
    if (!isValidProjectName(name) || !isValidVersion(version)) continue;
    if (versionHint !== undefined && sameVersion(version, versionHint)) {
      chosen = { name, version };
      break;
    }
    chosen = { name, version };
  }
  if (!chosen) return fail(`'${filename}' is not a valid source distribution file name: expected {name}-{version}${ext}`);
  return {
    ok: true,
    file: {
      kind: 'sdist',
      filename,
      name: chosen.name,
      project: normalizeProjectName(chosen.name),
      version: chosen.version,
      normalizedVersion: normalizeVersion(chosen.version)!,
    },
  };
}

/** Parses a wheel or an sdist file name, by its extension. */
export function parseDistributionFilename(filename: string, versionHint?: string): ParseResult {
  if (filename.endsWith('.whl')) return parseWheelFilename(filename);
  return parseSdistFilename(filename, versionHint);
}
