/**
 * Shared pieces of the property-based tests of request names (parsers.property.test.ts and
 * http-names.property.test.ts): generators of hostile request text, and the two oracles —
 * "a refusal is a 4xx" and "a storage path stays inside its repository".
 */
import { posix } from 'node:path';
import fc from 'fast-check';
import { ArcaError } from '../../src/core/errors.js';
import { mapError } from '../../src/http/error-mapper.js';

/**
 * Fragments that parsers trip over: traversal in every spelling, encoded and raw separators,
 * NUL and other controls, bad percent-encoding, lone surrogates, bidi and BOM characters,
 * and the words each format gives a meaning to.
 */
export const TOKENS = [
  '..', '.', '/', '//', '\\', '%2f', '%2F', '%5c', '%5C', '%00', '\u0000', '%2e', '%2E%2e', '%2e%2e', '%c0%ae', '%',
  '%zz', '%e0%a4%a', '%ff', '%ED%A0%80', ';', '=', ',', '\\,', '%3B', '%3D', '%2C', '%5C%2C', '+', '%20', '?', '#', '&',
  ':', '@', '~', '*', '!', ' ', '\t', '\n', '\r', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', '\u202e',
  '\ufeff', 'é', 'İ', 'ß', 'ﬀ', '😀', '\ud800', '\udfff', 'a', 'Z', '0', '9', '-', '_', 'sha256', 'sha512', 'sha256:',
  'SNAPSHOT', '-SNAPSHOT', '20240101.120000-1', 'maven-metadata.xml', '.whl', '.tar.gz', '.zip', '.tgz', '.metadata',
  '-rev', '-', 'blobs', 'manifests', 'uploads', '_uploads', '_referrers', 'tags', 'list', 'latest', '1.0.0', '1.0',
  'node_modules', '.npm', '.pypi', 'api', 'simple', 'packages', 'py3-none-any', '__proto__', 'constructor', 'arca-sentinel',
] as const;

const HEX = 'a'.repeat(64);

/** Short strings made of the tokens above. */
export const tokenString = (maxLength = 24) => fc.string({ unit: fc.constantFrom(...TOKENS), maxLength });

/** One long run (200 to 5000 characters) of a token, with hostile text around it. */
export const longString = fc
  .tuple(fc.constantFrom('a', '.', '/', '%2e', 'é', '😀', '-', '0', HEX), fc.integer({ min: 200, max: 5000 }), tokenString(4), tokenString(4))
  .map(([t, n, before, after]) => before + t.repeat(Math.ceil(n / t.length)).slice(0, n) + after);

/** Any string: full Unicode, the tokens, graphemes, very long runs. */
export const evilString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: tokenString(), weight: 5 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }), weight: 1 },
  { arbitrary: longString, weight: 1 },
);

/** A name-like segment: mostly the characters names are made of, sometimes hostile. */
export const nameish = (re: RegExp = /^[A-Za-z0-9._-]{1,24}$/) =>
  fc.oneof({ arbitrary: fc.stringMatching(re), weight: 6 }, { arbitrary: evilString, weight: 2 }, { arbitrary: fc.constantFrom(...TOKENS), weight: 2 });

/** Slash-joined segments, each name-like or hostile: paths that are sometimes valid. */
export const segmentPath = (seg: fc.Arbitrary<string> = nameish(), maxSegments = 8) =>
  fc.array(seg, { minLength: 0, maxLength: maxSegments }).map((s) => s.join('/'));

/** The status a refused name answers with; anything but an ArcaError escapes and fails the property. */
export function statusOf(err: unknown): number {
  if (err instanceof ArcaError) return mapError(err).status;
  throw err;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: number };

/** Runs a parser: its value, or the 4xx status it refused with. Any other throw fails the test. */
export function attempt<T>(parse: () => T): Outcome<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    const status = statusOf(err);
    if (status < 400 || status > 499) throw new Error(`refused with status ${status}: ${(err as Error).message}`, { cause: err });
    return { ok: false, status };
  }
}

/** `attempt` for an asynchronous parser (one that reads a stream, such as an npm publish body). */
export async function attemptAsync<T>(parse: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await parse() };
  } catch (err) {
    const status = statusOf(err);
    if (status < 400 || status > 499) throw new Error(`refused with status ${status}: ${(err as Error).message}`, { cause: err });
    return { ok: false, status };
  }
}

/** Longest repository-relative path and segment the store and the database hold. */
export const MAX_STORED_PATH = 1024;
export const MAX_STORED_SEGMENT_BYTES = 255;

/**
 * Why `path` is not a well-formed storage path inside its repository, or undefined when it
 * is: relative, no empty, `.` or `..` segment, no backslash, NUL or control character, each
 * segment at most 255 UTF-8 bytes (the `name` column), at most 1024 characters, and it
 * resolves to a place strictly below the repository's root.
 */
export function storagePathProblem(path: string, opts: { root?: boolean } = {}): string | undefined {
  if (path === '') return opts.root ? undefined : 'empty path';
  if (path.startsWith('/')) return 'absolute path';
  if (path.length > MAX_STORED_PATH) return `longer than ${MAX_STORED_PATH} characters`;
  for (const seg of path.split('/')) {
    if (seg === '') return 'empty segment';
    if (seg === '.' || seg === '..') return `'${seg}' segment`;
    if (seg.includes('\\')) return 'backslash';
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(seg)) return 'control character';
    if (Buffer.byteLength(seg) > MAX_STORED_SEGMENT_BYTES) return `segment of ${Buffer.byteLength(seg)} bytes`;
  }
  const root = '/store/repo';
  const resolved = posix.resolve(root, path);
  if (!resolved.startsWith(`${root}/`)) return `resolves outside the repository (${resolved})`;
  return undefined;
}

/** Asserts a storage path is well-formed (see storagePathProblem), naming the offending input. */
export function assertInside(path: string, input: unknown, opts: { root?: boolean } = {}): void {
  const problem = storagePathProblem(path, opts);
  if (problem) throw new Error(`storage path ${JSON.stringify(path.slice(0, 200))} is not inside its repository (${problem}); input ${JSON.stringify(input)}`);
}

/** Counts accepted inputs, so a property whose generator never reaches acceptance fails instead of passing vacuously. */
export class Acceptance {
  accepted = 0;
  refused = 0;
  note(ok: boolean): void {
    if (ok) this.accepted++;
    else this.refused++;
  }
  /** Both outcomes were seen, at least `min` times each. */
  assertBoth(min = 5): void {
    if (this.accepted < min || this.refused < min) {
      throw new Error(`the generator is too one-sided: ${this.accepted} accepted, ${this.refused} refused (want ${min} of each)`);
    }
  }
}

/** `s` with each lone surrogate replaced by U+FFFD (what a UTF-8 encoder sends for it). */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Percent-encodes any text for a URL, as a client would (encodeURIComponent throws on lone surrogates). */
export function encodeText(s: string): string {
  return encodeURIComponent(wellFormed(s));
}
