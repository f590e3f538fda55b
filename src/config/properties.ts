/**
 * A parser for Java `.properties` files with the full format rules: `#`/`!` comments,
 * `=`, `:` or whitespace separators, backslash escapes (`\t \n \r \f \uXXXX`, and `\x` for
 * any other x), and line continuations ending in an odd number of backslashes.
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const natural = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < natural.length; i++) {
    let line = natural[i].replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    while (endsWithOddBackslashes(line) && i + 1 < natural.length) {
      line = line.slice(0, -1) + natural[++i].replace(/^[ \t\f]+/, '');
    }
    if (endsWithOddBackslashes(line)) line = line.slice(0, -1);
    const { key, rest } = splitKey(line);
    result.set(unescape(key), unescape(rest));
  }
  return result;
}

function endsWithOddBackslashes(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function splitKey(line: string): { key: string; rest: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
    i++;
  }
  const key = line.slice(0, i);
  let j = i;
  while (j < line.length && /[ \t\f]/.test(line[j])) j++;
  if (j < line.length && (line[j] === '=' || line[j] === ':')) {
    j++;
    while (j < line.length && /[ \t\f]/.test(line[j])) j++;
  }
  return { key, rest: line.slice(j) };
}

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i];
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error(`Malformed \\uxxxx escape: \\u${hex}`);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 4;
        break;
      }
      default: out += n;
    }
  }
  return out;
}

/** Writes properties, escaping what the parser would otherwise read differently. */
export function formatProperties(entries: Iterable<[string, string]>, header?: string): string {
  const esc = (s: string, isKey: boolean) =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(isKey ? /([=: #!])/g : /^([ #!])/g, '\\$1');
  const lines = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const [k, v] of entries) lines.push(`${esc(k, true)}=${esc(v, false)}`);
  return lines.join('\n') + '\n';
}
