/**
 * Gem names, versions and platforms as RubyGems defines them
 * (`Gem::Specification::VALID_NAME_PATTERN`, `Gem::Version::ANCHORED_VERSION_PATTERN`,
 * `Gem::Platform`), and version order (`Gem::Version#<=>`).
 */

const NAME = /^[A-Za-z0-9._-]+$/;
const VERSION = /^[0-9]+(?:\.[0-9a-zA-Z]+)*$/;
const PLATFORM = /^[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+){0,2}$/;

export const MAX_NAME_LENGTH = 128;

/** A gem name: letters, digits, `.`, `-`, `_`, at least one letter or digit, not `.` or `..`. */
export function isValidGemName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name) && /[A-Za-z0-9]/.test(name) && !name.startsWith('.') && !name.startsWith('-');
}

/** A version as `Gem::Version#to_s` writes it (a `-` is already turned into `.pre.`). */
export function isValidGemVersion(version: string): boolean {
  return version.length <= 64 && VERSION.test(version);
}

/** `ruby`, or a platform such as `x86_64-linux`, `java`, `universal-darwin-21`. */
export function isValidPlatform(platform: string): boolean {
  return platform.length <= 64 && PLATFORM.test(platform);
}

/** A version with a letter in it is a prerelease. */
export function isPrerelease(version: string): boolean {
  return /[a-zA-Z]/.test(version);
}

function segments(version: string): (number | string)[] {
  return (version.match(/[0-9]+|[a-zA-Z]+/g) ?? []).map((s) => (/^[0-9]/.test(s) ? Number(s) : s));
}

/** `Gem::Version#<=>`: numbers by value, a letter segment before any number, missing segments as 0. */
export function compareGemVersions(a: string, b: string): number {
  const x = segments(a);
  const y = segments(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'string' && typeof q === 'string') return p < q ? -1 : 1;
    return typeof p === 'string' ? -1 : 1;
  }
  return 0;
}

/** `name-version` or `name-version-platform` (`Gem::Specification#full_name`). */
export function fullName(name: string, version: string, platform: string): string {
  return platform === 'ruby' ? `${name}-${version}` : `${name}-${version}-${platform}`;
}

/** `version` or `version-platform`, as the compact index writes it. */
export function versionAndPlatform(version: string, platform: string): string {
  return platform === 'ruby' ? version : `${version}-${platform}`;
}

/** Splits `version[-platform]` (versions never hold a `-`). */
export function splitVersionPlatform(s: string): { version: string; platform: string } {
  const dash = s.indexOf('-');
  return dash < 0 ? { version: s, platform: 'ruby' } : { version: s.slice(0, dash), platform: s.slice(dash + 1) };
}
