/**
 * PEP 440 versions: validation and the normalised form (what `packaging.version.Version`
 * prints), so that `1.0-post1`, `1.0.post1` and `1.0_post_1` name the same release folder.
 */

const VERSION = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?' +
    '(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

const PRE_LABELS: Record<string, string> = { alpha: 'a', a: 'a', beta: 'b', b: 'b', c: 'rc', pre: 'rc', preview: 'rc', rc: 'rc' };

const int = (s: string | undefined) => (s === undefined ? '0' : BigInt(s).toString());

export function isValidVersion(version: string): boolean {
  return version.length <= 128 && VERSION.test(version);
}

/** The normalised form of a PEP 440 version, or undefined when it is not one. */
export function normalizeVersion(version: string): string | undefined {
  if (version.length > 128) return undefined;
  const g = VERSION.exec(version)?.groups;
  if (!g) return undefined;
  let out = '';
  if (g.epoch !== undefined && int(g.epoch) !== '0') out += `${int(g.epoch)}!`;
  out += g.release.split('.').map(int).join('.');
  if (g.pre !== undefined) out += PRE_LABELS[g.preL.toLowerCase()] + int(g.preN);
  if (g.post !== undefined) out += `.post${int(g.postN1 ?? g.postN2)}`;
  if (g.dev !== undefined) out += `.dev${int(g.devN)}`;
  if (g.local !== undefined) {
    out += '+' + g.local.toLowerCase().split(/[-_.]/).map((s) => (/^[0-9]+$/.test(s) ? int(s) : s)).join('.');
  }
  return out;
}

/** Whether two version strings name the same release (equal once normalised). */
export function sameVersion(a: string, b: string): boolean {
  const na = normalizeVersion(a);
  return na !== undefined && na === normalizeVersion(b);
}
