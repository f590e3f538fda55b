import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parseDocument } from 'yaml';
import { ArcaError } from '../../core/errors.js';
import { fullName, isValidGemName, isValidGemVersion, isValidPlatform } from './names.js';
import { isSafeEntryPath, isZeroBlock, parseTarHeader, paxPath, readTarFiles, TarError } from './tar.js';

/**
 * A .gem as `gem build` writes it: a tar of `metadata.gz` (the gemspec as YAML with Ruby
 * tags), `data.tar.gz` (the gem's files) and `checksums.yaml.gz`. `readGem` checks all of
 * it before anything is stored: the archive's shape, the spec's name, version and platform,
 * the checksums, and every path inside `data.tar.gz`, with every decompression bounded.
 */

/** One requirement: an operator and a version (`['>=', '1.0']`). */
export type Requirement = [string, string];

export interface GemDependency {
  name: string;
  type: 'runtime' | 'development';
  requirements: Requirement[];
}

/** What the index needs from a gemspec. */
export interface GemSpec {
  name: string;
  version: string;
  platform: string;
  summary: string | null;
  description: string | null;
  authors: string[];
  email: string | string[] | null;
  homepage: string | null;
  licenses: string[];
  metadata: Record<string, string>;
  dependencies: GemDependency[];
  requiredRubyVersion: Requirement[];
  requiredRubygemsVersion: Requirement[];
  rubygemsVersion: string | null;
  specificationVersion: number;
  /** The spec's date (epoch ms), or undefined when it has none. */
  date?: number;
}

export interface ReadGem {
  spec: GemSpec;
  /** `name-version[-platform]`. */
  fullName: string;
}

export const GEM_LIMITS = {
  entries: 16,
  metadata: 4 * 1024 * 1024,
  checksums: 256 * 1024,
  dataEntries: 100_000,
  dataBytes: 1024 * 1024 * 1024,
  longName: 64 * 1024,
};

const bad = (message: string) => new ArcaError('BAD_REQUEST', message);

function gunzipBounded(data: Buffer, limit: number, what: string): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw bad(`${what} expands to more than ${limit} bytes`);
    throw bad(`${what} is not a valid gzip stream`);
  }
}

/** YAML of a gemspec or checksums file: Ruby's tags resolve as the plain maps, sequences and strings under them. */
function parseYaml(text: string, what: string): unknown {
  const doc = parseDocument(text, {
    schema: 'failsafe',
    uniqueKeys: false,
    customTags: [{ tag: '!binary', resolve: (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'base64').toString('utf8') }],
    logLevel: 'silent',
  });
  if (doc.errors.length > 0) throw bad(`${what} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  try {
    return doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    throw bad(`${what} cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : typeof v === 'string' && v ? [v] : []);

/** A `Gem::Version` node (`{version: '1.0'}`) or a bare string. */
function versionOf(v: unknown): string | null {
  if (isMap(v)) return str(v.version);
  return str(v);
}

function requirementOf(v: unknown, what: string): Requirement[] {
  if (v === null || v === undefined || v === '') return [['>=', '0']];
  const list = isMap(v) ? v.requirements : undefined;
  if (!Array.isArray(list)) throw bad(`${what} is not a requirement`);
  const out: Requirement[] = [];
  for (const r of list) {
    const op = Array.isArray(r) ? str(r[0]) : null;
    const version = Array.isArray(r) ? versionOf(r[1]) : null;
    if (!op || !['=', '!=', '>', '<', '>=', '<=', '~>'].includes(op) || !version || !isValidGemVersion(version)) throw bad(`${what} has an invalid requirement`);
    out.push([op, version]);
  }
  return out.length > 0 ? out : [['>=', '0']];
}

/** `YYYY-MM-DD[ HH:MM:SS[.fff] Z]` as Psych writes a Time (or a Date). */
function dateOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?/.exec(v);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return Number.isNaN(t) ? undefined : t;
}

/** The index's view of a gemspec (the YAML of `metadata.gz`); BAD_REQUEST when it breaks RubyGems' rules. */
export function parseGemspec(yaml: string): GemSpec {
  const doc = parseYaml(yaml, 'The gemspec (metadata.gz)');
  if (!isMap(doc)) throw bad('The gemspec (metadata.gz) is not a Gem::Specification');
  const name = str(doc.name);
  if (!name || !isValidGemName(name)) throw bad(`The gemspec's name '${String(doc.name)}' is not a valid gem name`);
  const version = versionOf(doc.version);
  if (!version || !isValidGemVersion(version)) throw bad(`The gemspec's version '${String(version)}' is not a valid gem version`);
  const platform = str(doc.platform) ?? 'ruby';
  if (!isValidPlatform(platform)) throw bad(`The gemspec's platform '${platform}' is not a valid platform`);
  const dependencies: GemDependency[] = [];
  for (const d of Array.isArray(doc.dependencies) ? doc.dependencies : []) {
    const depName = isMap(d) ? str(d.name) : null;
    if (!depName || !isValidGemName(depName)) throw bad('The gemspec has a dependency without a valid gem name');
    const type = isMap(d) && d.type === ':development' ? 'development' : 'runtime';
    dependencies.push({ name: depName, type, requirements: requirementOf((d as Record<string, unknown>).requirement, `The dependency on '${depName}'`) });
  }
  const metadata: Record<string, string> = {};
  if (isMap(doc.metadata)) for (const [k, v] of Object.entries(doc.metadata)) if (typeof v === 'string') metadata[k] = v;
  const specVersion = Number(doc.specification_version);
  return {
    name,
    version,
    platform,
    summary: str(doc.summary),
    description: str(doc.description),
    authors: strings(doc.authors),
    email: Array.isArray(doc.email) ? strings(doc.email) : str(doc.email),
    homepage: str(doc.homepage),
    licenses: strings(doc.licenses),
    metadata,
    dependencies,
    requiredRubyVersion: requirementOf(doc.required_ruby_version, 'required_ruby_version'),
    requiredRubygemsVersion: requirementOf(doc.required_rubygems_version, 'required_rubygems_version'),
    rubygemsVersion: str(doc.rubygems_version),
    specificationVersion: Number.isInteger(specVersion) && specVersion >= 1 && specVersion <= 4 ? specVersion : 4,
    date: dateOf(doc.date),
  };
}

/** Compares the digests `checksums.yaml.gz` lists with the archive's members. */
function checkChecksums(files: Map<string, Buffer>, gz: Buffer): void {
  const doc = parseYaml(gunzipBounded(gz, GEM_LIMITS.checksums, 'checksums.yaml.gz').toString('utf8'), 'checksums.yaml.gz');
  if (!isMap(doc)) throw bad('checksums.yaml.gz is not a map of digests');
  for (const [algorithm, node] of [['SHA256', 'sha256'], ['SHA512', 'sha512'], ['SHA1', 'sha1']] as const) {
    const listed = doc[algorithm];
    if (!isMap(listed)) continue;
    for (const [member, digest] of Object.entries(listed)) {
      const data = files.get(member);
      if (!data) continue;
      if (typeof digest !== 'string' || createHash(node).update(data).digest('hex') !== digest.toLowerCase()) {
        throw bad(`The ${algorithm} checksum of ${member} does not match checksums.yaml.gz`);
      }
    }
  }
}

/** Walks `data.tar.gz` as it inflates, refusing unsafe paths and archives past the limits. */
async function checkData(gz: Buffer): Promise<void> {
  const gunzip = createGunzip();
  Readable.from([gz]).pipe(gunzip);
  let pending: Buffer = Buffer.alloc(0);
  let skip = 0;
  let entries = 0;
  let total = 0;
  let longName: { type: string; size: number; chunks: Buffer[] } | undefined;
  let nextName: string | undefined;
  let ended = false;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > GEM_LIMITS.dataBytes) throw bad(`data.tar.gz expands to more than ${GEM_LIMITS.dataBytes} bytes`);
      if (ended) continue;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (!ended) {
        if (skip > 0) {
          const n = Math.min(skip, pending.length);
          if (longName && longName.size > 0) longName.chunks.push(pending.subarray(0, n));
          pending = pending.subarray(n);
          skip -= n;
          if (skip > 0) break;
          if (longName) {
            const data = Buffer.concat(longName.chunks).subarray(0, longName.size);
            nextName = longName.type === 'L' ? data.toString('utf8').replace(/\0+$/, '') : (paxPath(data) ?? nextName);
            longName = undefined;
          }
        }
        if (pending.length < 512) break;
        const block = pending.subarray(0, 512);
        pending = pending.subarray(512);
        if (isZeroBlock(block)) {
          ended = true;
          break;
        }
        const h = parseTarHeader(block);
        if (++entries > GEM_LIMITS.dataEntries) throw bad(`data.tar.gz has more than ${GEM_LIMITS.dataEntries} entries`);
        skip = Math.ceil(h.size / 512) * 512;
        if (h.type === 'L' || h.type === 'x') {
          if (h.size > GEM_LIMITS.longName) throw bad('data.tar.gz has an oversized extended header');
          longName = { type: h.type, size: h.size, chunks: [] };
          continue;
        }
        if (h.type === 'g') continue;
        const path = nextName ?? h.name;
        nextName = undefined;
        if (!isSafeEntryPath(path)) throw bad(`data.tar.gz holds an unsafe path '${path}'`);
        if (!['0', '5', '2', '1'].includes(h.type)) throw bad(`data.tar.gz holds '${path}' of unsupported type '${h.type}'`);
        if ((h.type === '2' || h.type === '1') && !isSafeEntryPath(h.type === '2' ? joinLink(path, h.linkName) : h.linkName)) {
          throw bad(`data.tar.gz holds a link '${path}' that points outside the gem`);
        }
      }
    }
  } catch (err) {
    gunzip.destroy();
    if (err instanceof ArcaError) throw err;
    if (err instanceof TarError) throw bad(`data.tar.gz is not a valid tar archive: ${err.message}`);
    throw bad('data.tar.gz is not a valid gzip stream');
  }
  if (!ended && (skip > 0 || pending.length > 0)) throw bad('data.tar.gz is truncated');
}

/** Where a symbolic link at `path` pointing at `target` leads, relative to the gem's root. */
function joinLink(path: string, target: string): string {
  if (target.startsWith('/')) return target;
  const parts = path.split('/').slice(0, -1);
  for (const s of target.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (parts.length === 0) return '../';
      parts.pop();
    } else parts.push(s);
  }
  return parts.join('/') || '.';
}

function members(gem: Buffer): { files: Map<string, Buffer>; metadata: Buffer; data: Buffer } {
  let files: Map<string, Buffer>;
  try {
    files = readTarFiles(gem, GEM_LIMITS.entries);
  } catch (err) {
    if (err instanceof TarError) throw bad(`The file is not a valid gem (a tar archive): ${err.message}`);
    throw err;
  }
  const metadata = files.get('metadata.gz');
  const data = files.get('data.tar.gz');
  if (!metadata || !data) throw bad('The gem has no metadata.gz or no data.tar.gz');
  return { files, metadata, data };
}

const specOf = (metadata: Buffer) => parseGemspec(gunzipBounded(metadata, GEM_LIMITS.metadata, 'metadata.gz').toString('utf8'));

/** Reads and checks a whole .gem; BAD_REQUEST (with the reason) when it is not one. */
export async function readGem(gem: Buffer): Promise<ReadGem> {
  const { files, metadata, data } = members(gem);
  const checksums = files.get('checksums.yaml.gz');
  if (checksums) checkChecksums(files, checksums);
  const spec = specOf(metadata);
  await checkData(data);
  return { spec, fullName: fullName(spec.name, spec.version, spec.platform) };
}

/** Only the spec of a .gem that was checked before (`readGem`) when it was stored. */
export async function readGemSpec(gem: Buffer): Promise<GemSpec> {
  return specOf(members(gem).metadata);
}
