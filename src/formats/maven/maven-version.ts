/**
 * Maven version ordering (the rules of Maven's ComparableVersion, simplified): a version is
 * split into numbers and qualifiers at dots, dashes and digit/letter transitions; numbers
 * compare numerically, known qualifiers by their rank
 * (alpha < beta < milestone < rc = cr < snapshot < release = ga = final < sp),
 * unknown qualifiers after the known ones, alphabetically; missing trailing parts count as 0
 * or as a release.
 */

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { a: 'alpha', b: 'beta', m: 'milestone', cr: 'rc', ga: '', final: '', release: '' };

type Item = { kind: 'number'; value: bigint } | { kind: 'string'; value: string };

function tokenize(version: string): Item[] {
  const items: Item[] = [];
  for (const part of version.toLowerCase().split(/[.-]/)) {
    for (const token of part.match(/\d+|\D+/g) ?? ['']) {
      if (/^\d+$/.test(token)) items.push({ kind: 'number', value: BigInt(token) });
      else items.push({ kind: 'string', value: (Object.hasOwn(ALIASES, token) ? ALIASES[token] : undefined) ?? token });
    }
  }
  // Trailing zeros and release markers do not change a version: 1.0 = 1 = 1.0.0-ga.
  while (items.length > 1) {
    const last = items[items.length - 1];
    if ((last.kind === 'number' && last.value === 0n) || (last.kind === 'string' && last.value === '')) items.pop();
    else break;
  }
  return items;
}

function qualifierRank(q: string): [number, string] {
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? [i, ''] : [QUALIFIERS.length, q];
}

function compareItem(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -compareItem(b, a);
  if (b === undefined) {
    // Compared with nothing: a number is newer unless zero; a qualifier is older than a release.
    if (a.kind === 'number') return a.value === 0n ? 0 : 1;
    return compareItem(a, { kind: 'string', value: '' });
  }
  if (a.kind === 'number' && b.kind === 'number') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.kind === 'number') return 1;
  if (b.kind === 'number') return -1;
  const [ra, sa] = qualifierRank(a.value);
  const [rb, sb] = qualifierRank(b.value);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Negative when `a` is older than `b`, positive when newer, 0 when equal. */
export function compareVersions(a: string, b: string): number {
  const ia = tokenize(a);
  const ib = tokenize(b);
  for (let i = 0; i < Math.max(ia.length, ib.length); i++) {
    const c = compareItem(ia[i], ib[i]);
    if (c !== 0) return c;
  }
  return 0;
}

export function isSnapshotVersion(version: string): boolean {
  return version.endsWith('-SNAPSHOT');
}

/** Sorts versions oldest first (a copy). */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions);
}
