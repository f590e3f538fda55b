import { ArcaError } from '../../../core/errors.js';
import { checkPropertyKey, checkPropertyValue, valuesOf } from '../../../core/properties.js';
import type { PropertyValues as PropertyMap } from '../../../core/properties.js';

/** Query-string parsing of the storage API: flags and the `properties` syntax (REST-API.md §1–§2). */

export { MAX_PROPERTY_KEY, MAX_PROPERTY_VALUE } from '../../../core/properties.js';

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** Form-style decoding: `+` is a space, then percent-decoding. */
export function formDecode(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw bad(`Invalid percent-encoding in '${raw}'`);
  }
}

/** The raw (still encoded) query parameters of a request URL, in order. */
export function rawQuery(url: string): Array<[string, string | undefined]> {
  const q = url.indexOf('?');
  if (q < 0) return [];
  return url
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [formDecode(p), undefined] : [formDecode(p.slice(0, eq)), p.slice(eq + 1)];
    });
}

/** The raw value of a parameter: undefined when absent, '' for a bare `?name`. */
export function rawParam(url: string, name: string): string | undefined {
  const hit = rawQuery(url).find(([k]) => k === name);
  return hit === undefined ? undefined : (hit[1] ?? '');
}

/** True when a parameter is present and not explicitly off: `list`, `list=`, `list=true`, `list=1`. */
export function flagOn(query: Record<string, unknown>, name: string): boolean {
  if (!(name in query)) return false;
  const v = query[name];
  const s = String(Array.isArray(v) ? v[0] : (v ?? '')).trim().toLowerCase();
  return s === '' || s === 'true' || s === '1';
}

/** An optional flag that defaults to on (`recursive`): off only for `0` or `false`. */
export function flagDefaultOn(query: Record<string, unknown>, name: string): boolean {
  if (!(name in query)) return true;
  const v = query[name];
  const s = String(Array.isArray(v) ? v[0] : (v ?? '')).trim().toLowerCase();
  if (s === '0' || s === 'false') return false;
  if (s === '' || s === '1' || s === 'true') return true;
  throw bad(`Query parameter '${name}' must be 0 or 1, got '${s}'`);
}

export function nonNegativeInt(query: Record<string, unknown>, name: string): number | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  const s = String(Array.isArray(v) ? v[0] : v).trim();
  if (!/^\d{1,9}$/.test(s)) throw bad(`Query parameter '${name}' must be a non-negative integer, got '${s}'`);
  return Number(s);
}

/** An optional single-valued parameter as given (undefined when absent or empty). */
export function stringParam(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : String(s);
}

/** Splits on `,` except where a backslash escapes it (`\,` is a literal comma, as the JFrog CLI sends). */
export function splitValues(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (s[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  out.push(cur);
  return out;
}

function addValues(props: PropertyMap, key: string, values: string[]): void {
  const list = valuesOf(props, checkPropertyKey(key));
  for (const v of values) {
    checkPropertyValue(v);
    if (!list.includes(v)) list.push(v);
  }
}

/**
 * Parses `k1=v1,v2;k2=v3` from the raw (encoded) query value. Two encodings exist in the wild:
 * the JFrog CLI encodes each key and value (its `;` and `=` stay literal, a value's `,`
 * arrives as `%5C%2C`), while generic HTTP clients encode the whole string (`k1%3Dv1%3B…`).
 * When no literal `=` is present the whole value is decoded first; otherwise each part is
 * decoded after splitting, so an encoded `;` or `=` inside a value survives.
 */
export function parsePropertiesParam(raw: string): PropertyMap {
  const perPart = raw.includes('=');
  const text = perPart ? raw : formDecode(raw);
  const props: PropertyMap = {};
  for (const pair of text.split(';')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) throw bad(`Invalid property '${perPart ? formDecode(pair) : pair}': expected key=value`);
    const key = (perPart ? formDecode(pair.slice(0, eq)) : pair.slice(0, eq)).trim();
    const values = perPart ? splitValues(formDecode(pair.slice(eq + 1))) : splitValues(pair.slice(eq + 1));
    addValues(props, key, values);
  }
  if (Object.keys(props).length === 0) throw bad("Query parameter 'properties' must name at least one key=value");
  return props;
}

/** Parses a comma-separated list of property keys (`k1,k2`). */
export function parsePropertyKeys(raw: string): string[] {
  const keys = formDecode(raw)
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  return [...new Set(keys.map(checkPropertyKey))];
}
