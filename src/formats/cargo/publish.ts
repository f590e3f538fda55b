import { createHash } from 'node:crypto';
import { ArcaError } from '../../core/errors.js';
import { crateNameProblem, parseVersion } from './names.js';

/**
 * `cargo publish`'s body (`PUT /api/v1/crates/new`): a little-endian u32 length and the
 * metadata JSON, then a u32 length and the `.crate` file; and the index line made from it.
 */

/** Most bytes of publish metadata: it is a crate's manifest, never large. */
export const MAX_METADATA_BYTES = 1024 * 1024;
/** Most bytes of a published `.crate` (crates.io takes 10 MB by default). */
export const MAX_CRATE_BYTES = 32 * 1024 * 1024;
/** The largest publish body: both lengths, the metadata and the crate. */
export const MAX_PUBLISH_BYTES = 8 + MAX_METADATA_BYTES + MAX_CRATE_BYTES;

const bad = (message: string) => new ArcaError('BAD_REQUEST', message);

/** Splits a publish body into its metadata JSON (parsed) and the crate bytes. */
export function splitPublishBody(body: Buffer): { metadata: unknown; crate: Buffer } {
  if (body.length < 4) throw bad('The publish body is truncated: it has no metadata length');
  const jsonLength = body.readUInt32LE(0);
  if (jsonLength > MAX_METADATA_BYTES) throw bad(`The publish metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  if (body.length < 8 + jsonLength) throw bad('The publish body is truncated: it ends inside the metadata or before the crate length');
  const crateLength = body.readUInt32LE(4 + jsonLength);
  if (crateLength > MAX_CRATE_BYTES) throw bad(`The crate is larger than ${MAX_CRATE_BYTES} bytes`);
  const end = 8 + jsonLength + crateLength;
  if (body.length < end) throw bad('The publish body is truncated: it ends inside the crate');
  if (body.length > end) throw bad('The publish body has bytes after the crate');
  let metadata: unknown;
  try {
    metadata = JSON.parse(body.subarray(4, 4 + jsonLength).toString('utf8'));
  } catch {
    throw bad('The publish metadata is not JSON');
  }
  return { metadata, crate: body.subarray(8 + jsonLength, end) };
}

/** One dependency as the index lists it. */
export interface IndexDependency {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: 'normal' | 'dev' | 'build';
  registry?: string | null;
  package?: string;
}

/** One line of an index file: a published version. */
export interface IndexLine {
  name: string;
  vers: string;
  deps: IndexDependency[];
  cksum: string;
  features: Record<string, string[]>;
  features2?: Record<string, string[]>;
  yanked: boolean;
  links: string | null;
  v: number;
  rust_version?: string;
}

/** A publish request's metadata, checked. */
export interface PublishedVersion {
  name: string;
  vers: string;
  description: string | undefined;
  line: IndexLine;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad(`${what} must be a list of strings`);
  return v as string[];
};
const optionalString = (v: unknown, what: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw bad(`${what} must be a string`);
  return v;
};

function dependency(d: unknown, i: number): IndexDependency {
  if (!isObject(d)) throw bad(`Dependency ${i} is not an object`);
  const problem = crateNameProblem(d.name);
  if (problem) throw bad(`Dependency ${i}: ${problem}`);
  const name = d.name as string;
  if (typeof d.version_req !== 'string' || d.version_req === '') throw bad(`Dependency '${name}' has no version requirement`);
  const kind = d.kind ?? 'normal';
  if (kind !== 'normal' && kind !== 'dev' && kind !== 'build') throw bad(`Dependency '${name}' has an unknown kind`);
  const alias = optionalString(d.explicit_name_in_toml, `The renamed name of dependency '${name}'`);
  if (alias !== null && crateNameProblem(alias.replace(/-/g, '_')) !== undefined) throw bad(`Dependency '${name}' is renamed to an invalid name`);
  const out: IndexDependency = {
    // The index names a renamed dependency by its name in the manifest, the crate in `package`.
    name: alias ?? name,
    req: d.version_req,
    features: strings(d.features, `The features of dependency '${name}'`),
    optional: d.optional === true,
    default_features: d.default_features !== false,
    target: optionalString(d.target, `The target of dependency '${name}'`),
    kind,
  };
  const registry = optionalString(d.registry, `The registry of dependency '${name}'`);
  if (registry !== null) out.registry = registry;
  if (alias !== null) out.package = name;
  return out;
}

/** Features that use the `dep:` or `?/` syntax go to `features2` (index format 2), as crates.io does. */
function splitFeatures(raw: unknown): { features: Record<string, string[]>; features2?: Record<string, string[]> } {
  if (raw === undefined || raw === null) return { features: {} };
  if (!isObject(raw)) throw bad('The features must be an object of lists');
  const features: Record<string, string[]> = {};
  const features2: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(raw)) {
    const list = strings(v, `Feature '${k}'`);
    if (list.some((f) => f.startsWith('dep:') || f.includes('?/'))) features2[k] = list;
    else features[k] = list;
  }
  return Object.keys(features2).length > 0 ? { features, features2 } : { features };
}

/** Checks the publish metadata and makes the version's index line (`cksum`: the crate's sha256). */
export function parsePublishMetadata(metadata: unknown, crate: Buffer): PublishedVersion {
  if (!isObject(metadata)) throw bad('The publish metadata must be a JSON object');
  const problem = crateNameProblem(metadata.name);
  if (problem) throw bad(problem);
  const name = metadata.name as string;
  if (!parseVersion(metadata.vers)) throw bad(`'${String(metadata.vers)}' is not a semantic version (major.minor.patch[-pre][+build])`);
  const vers = metadata.vers as string;
  if (metadata.deps !== undefined && !Array.isArray(metadata.deps)) throw bad('The dependencies must be a list');
  const deps = ((metadata.deps as unknown[] | undefined) ?? []).map(dependency);
  const { features, features2 } = splitFeatures(metadata.features);
  const links = optionalString(metadata.links, 'links');
  const rustVersion = optionalString(metadata.rust_version, 'rust_version');
  const description = optionalString(metadata.description, 'description');
  const line: IndexLine = {
    name,
    vers,
    deps,
    cksum: createHash('sha256').update(crate).digest('hex'),
    features,
    yanked: false,
    links,
    v: features2 ? 2 : 1,
  };
  if (features2) line.features2 = features2;
  if (rustVersion !== null) line.rust_version = rustVersion;
  return { name, vers, description: description ?? undefined, line };
}

/** Parses the lines of an index file, skipping lines that are not JSON objects with a version. */
export function parseIndexLines(text: string): IndexLine[] {
  const out: IndexLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const line = JSON.parse(raw) as unknown;
      if (isObject(line) && typeof line.vers === 'string' && typeof line.name === 'string') out.push(line as unknown as IndexLine);
    } catch {
      // An index line cargo could not read either; it is left out.
    }
  }
  return out;
}
