import { ArcaError } from './errors.js';

/**
 * Properties as requests name them (`;k=v` matrix parameters, `?properties=k=v1,v2`, what a
 * format records): the limits of the `item_props` columns, one rule for keys and values
 * wherever they come from, and maps that take any key — `__proto__` and `constructor` are
 * property keys like any other, not a way into the object's prototype.
 */

/** Longest property key, in characters (the `prop_key` column). */
export const MAX_PROPERTY_KEY = 255;
/** Longest property value, in characters (the `prop_value` column). */
export const MAX_PROPERTY_VALUE = 4000;

export type PropertyValues = Record<string, string[]>;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** Throws BAD_REQUEST unless `key` can be a property key: 1-255 characters, no whitespace, control characters, `=`, `;` or `,`. */
export function checkPropertyKey(key: string): string {
  if (key === '') throw bad('A property key must not be empty');
  if (key.length > MAX_PROPERTY_KEY) throw bad(`Property key longer than ${MAX_PROPERTY_KEY} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f=;,]/.test(key)) throw bad(`Invalid property key '${key}': no spaces, control characters, '=', ';' or ','`);
  return key;
}

/** Throws BAD_REQUEST unless `value` can be a property value: at most 4000 characters, no NUL. */
export function checkPropertyValue(value: string): string {
  if (value.includes('\u0000')) throw bad('Property values must not contain NUL characters');
  if (value.length > MAX_PROPERTY_VALUE) throw bad(`Property value longer than ${MAX_PROPERTY_VALUE} characters`);
  return value;
}

/** The value list of `key` in `map`, created as an own entry when missing (whatever the key). */
export function valuesOf(map: PropertyValues, key: string): string[] {
  if (!Object.hasOwn(map, key)) Object.defineProperty(map, key, { value: [], enumerable: true, writable: true, configurable: true });
  return map[key];
}
