import { ConfigError } from '../../core/errors.js';
import type { ProviderNode } from './types.js';

/**
 * Typed reads of a provider element's effective parameters (`node.params`, where the
 * resolver has already filled in the catalogue's defaults; the fallbacks here cover
 * parameters it does not list). An empty value takes the fallback; a bad one stops start-up
 * with a ConfigError naming the element. Cloud providers read theirs through `CloudParams`.
 */

/** A ConfigError naming the provider element: `binarystore.xml: <provider id="…" type="…">: message`. */
export function paramError(node: ProviderNode, message: string): ConfigError {
  return new ConfigError(`binarystore.xml: <provider id="${node.id}" type="${node.type}">: ${message}`, 'INVALID_CONFIG');
}

function raw(node: ProviderNode, name: string): string | undefined {
  const value = node.params[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A whole number of at least `min` (counts, milliseconds). */
export function intParam(node: ProviderNode, name: string, fallback: number, min = 0): number {
  const value = raw(node, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw paramError(node, `${name} must be a whole number of at least ${min}, got '${node.params[name]}'`);
  return n;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12 };

/** `5000000000`, `5e+10` (as the Helm chart writes it) or `5GB`; undefined when it is none of these. */
export function parseSize(value: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([a-z]*)$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isFinite(n) ? Math.floor(n) : undefined;
}

/** A size in bytes (see `parseSize`). */
export function sizeParam(node: ProviderNode, name: string, fallback: number): number {
  return optionalSizeParam(node, name) ?? fallback;
}

/** A size in bytes, undefined when unset. */
export function optionalSizeParam(node: ProviderNode, name: string): number | undefined {
  const value = raw(node, name);
  if (value === undefined) return undefined;
  const n = parseSize(value);
  if (n === undefined) throw paramError(node, `${name} must be a size in bytes (5000000000, 5e+10 or 5GB), got '${node.params[name]}'`);
  return n;
}

export function boolParam(node: ProviderNode, name: string, fallback: boolean): boolean {
  const value = raw(node, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw paramError(node, `${name} must be true or false, got '${node.params[name]}'`);
}
