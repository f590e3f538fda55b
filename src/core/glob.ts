/**
 * Ant-style path patterns as repositories and permission targets use them:
 * `**` any number of folders, `*` any characters within one segment, `?` one character.
 * A comma-separated list matches when any entry matches. `org/**` matches `org` itself too.
 */
const cache = new Map<string, RegExp>();

function compileOne(pattern: string): string {
  let p = pattern.trim().replace(/\\/g, '/').replace(/^\/+/, '');
  if (p === '' ) return '';
  if (p.endsWith('/')) p += '**';
  let out = '';
  const segments = p.split('/');
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '**') {
      out += last ? '(?:.*)' : '(?:[^/]*/)*';
      return;
    }
    for (const ch of seg) {
      if (ch === '*') out += '[^/]*';
      else if (ch === '?') out += '[^/]';
      else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    if (!last) {
      // `a/**` also matches `a` itself
      out += segments[i + 1] === '**' && i + 1 === segments.length - 1 ? '(?:/|$)' : '/';
    }
  });
  return out;
}

export function compilePatterns(patterns: string): RegExp | undefined {
  const key = patterns;
  const hit = cache.get(key);
  if (hit) return hit;
  const parts = patterns
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(compileOne)
    .filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  const re = new RegExp(`^(?:${parts.join('|')})$`);
  if (cache.size > 5000) cache.clear();
  cache.set(key, re);
  return re;
}

/** True when `path` matches any pattern of `patterns` (an empty list matches nothing). */
export function matchesAny(patterns: string | string[] | undefined, path: string): boolean {
  if (patterns === undefined) return false;
  const joined = Array.isArray(patterns) ? patterns.join(',') : patterns;
  const re = compilePatterns(joined);
  return re ? re.test(path) : false;
}

/** Include/exclude check with the repository defaults: include `**` and exclude nothing. */
export function isIncluded(path: string, includes: string | string[] | undefined, excludes: string | string[] | undefined): boolean {
  const inc = includes === undefined || (Array.isArray(includes) ? includes.join(',') : includes).trim() === '' ? '**' : includes;
  if (!matchesAny(inc, path)) return false;
  return !matchesAny(excludes, path);
}

/** Wildcard (`*`, `?`) match on a whole string, for searches. */
export function wildcardToRegExp(value: string, flags = ''): RegExp {
  const body = value.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}
