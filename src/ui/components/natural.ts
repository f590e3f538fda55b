/**
 * Natural order for names and versions: runs of digits compare as numbers, so `1.10.0` comes
 * after `1.9.2` and `file10` after `file2`. Otherwise case-insensitive; ties broken by code units.
 */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = x.replace(/^0+/, '').length - y.replace(/^0+/, '').length;
      if (d !== 0) return d;
      const c = x.replace(/^0+/, '').localeCompare(y.replace(/^0+/, ''));
      if (c !== 0) return c;
      continue;
    }
    const c = x.toLowerCase().localeCompare(y.toLowerCase());
    if (c !== 0) return c;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
