import { queryEscape } from './wire.js';

/**
 * The CLI's property strings (`--props "a=1,2;b=x"`): `;` between properties, `,` between the
 * values of one key, a backslash before either keeps it literal. Keys keep their first-seen
 * order here; the encoders sort them as the CLI does.
 */
export type PropMap = Map<string, string[]>;

function splitUnescaped(s: string, sep: string): string[] {
  const parts = s.split(sep);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i];
    while (p.endsWith('\\') && i + 1 < parts.length) p = p.slice(0, -1) + sep + parts[++i];
    out.push(p);
  }
  return out;
}

export function parseProps(s: string | undefined): PropMap {
  const map: PropMap = new Map();
  if (!s) return map;
  for (const prop of splitUnescaped(s, ';')) {
    if (prop === '') continue;
    const eq = prop.indexOf('=');
    if (eq < 1 || eq + 1 >= prop.length) throw new Error(`Invalid property format: ${prop} - format should be key=val1,val2,...`);
    const key = prop.slice(0, eq);
    const values = map.get(key) ?? [];
    for (const v of splitUnescaped(prop.slice(eq + 1), ',')) if (!values.includes(v)) values.push(v);
    map.set(key, values);
  }
  return map;
}

/**
 * Properties for a URL, as the CLI writes them: keys sorted; with `concatValues` one
 * `key=v1%2Cv2` per key (a comma inside a value escaped as `\,` first), else one `key=v` per
 * value; everything query-escaped; `;` between.
 */
export function encodeProps(props: PropMap, concatValues: boolean): string {
  const parts: string[] = [];
  for (const key of [...props.keys()].sort()) {
    const values = props.get(key)!;
    if (concatValues) parts.push(`${queryEscape(key)}=${values.map((v) => queryEscape(v.replaceAll(',', '\\,'))).join(queryEscape(','))}`);
    else for (const v of values) parts.push(`${queryEscape(key)}=${queryEscape(v)}`);
  }
  return parts.join(';');
}

/** Adds `extra` ("k=v;…") to a property string, as the CLI's `AddProps` does. */
export function addProps(base: string | undefined, extra: string): string {
  if (!base) return extra;
  if (!extra) return base;
  return base.endsWith(';') ? base + extra : `${base};${extra}`;
}
