import { ArcaError } from '../core/errors.js';

/** Field checks shared by the security JSON bodies; every failure is a 400 naming the field. */
export type Body = Record<string, unknown>;

export function invalidField(what: string, field: string, message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `Invalid ${what}: '${field}' ${message}`, { field });
}

export function requireObject(body: unknown, what: string): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ArcaError('BAD_REQUEST', `Invalid ${what}: the body must be a JSON object`);
  }
  return body as Body;
}

export function optBoolean(body: Body, field: string, what: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidField(what, field, 'must be true or false');
  return v;
}

export function optString(body: Body, field: string, what: string, max = 1024): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidField(what, field, 'must be a string');
  if (v.length > max) throw invalidField(what, field, `must be at most ${max} characters`);
  return v;
}

export function optStringArray(body: Body, field: string, what: string): string[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidField(what, field, 'must be an array of strings');
  return [...new Set(v as string[])];
}

/** User and group names: 1-64 characters, no slash, colon, whitespace or control characters. */
const NAME_PATTERN = /^[^\s/\\:,*?"<>|\u0000-\u001f\u007f]{1,64}$/;

export function checkName(name: string, what: string): string {
  if (!NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw invalidField(what, 'name', 'must be 1 to 64 characters without whitespace, slashes, colons, commas or wildcards');
  }
  return name;
}

/** The name in a body, when given, must equal the one in the URL. */
export function checkBodyName(body: Body, name: string, what: string): void {
  if (body.name !== undefined && body.name !== name) throw invalidField(what, 'name', `must match the name in the URL ('${name}')`);
}

export const bool = (v: boolean | undefined, dflt: boolean): number => ((v ?? dflt) ? 1 : 0);
