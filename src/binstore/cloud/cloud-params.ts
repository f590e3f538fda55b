import { ConfigError } from '../../core/errors.js';
import type { ProviderNode } from '../chain/types.js';

/**
 * Typed reads of a provider element's effective parameters. The catalogue fills in its
 * defaults; the fallbacks given here cover parameters it does not list. Bad values fail
 * start-up with a message naming the element.
 */
export class CloudParams {
  constructor(private readonly node: ProviderNode) {}

  private where(): string {
    return `binarystore.xml: <provider id="${this.node.id}" type="${this.node.type}">`;
  }

  fail(message: string): never {
    throw new ConfigError(`${this.where()}: ${message}`);
  }

  /** The first non-empty value among `names` (aliases), else `fallback`. */
  str(names: string | string[], fallback?: string): string | undefined {
    for (const n of Array.isArray(names) ? names : [names]) {
      const v = this.node.params[n];
      if (v !== undefined && v.trim() !== '') return v.trim();
    }
    return fallback;
  }

  /** The value as written, where an empty element is a value (e.g. `<path></path>` = the bucket root). */
  text(name: string, fallback: string): string {
    return this.node.params[name]?.trim() ?? fallback;
  }

  required(name: string): string {
    const v = this.str(name);
    if (v === undefined) this.fail(`${name} is required`);
    return v;
  }

  int(names: string | string[], fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.str(names);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    const name = Array.isArray(names) ? names[0] : names;
    if (!Number.isInteger(n) || n < min || n > max) this.fail(`${name} must be an integer from ${min} to ${max}, not '${raw}'`);
    return n;
  }

  bool(names: string | string[], fallback: boolean): boolean {
    const raw = this.str(names);
    if (raw === undefined) return fallback;
    if (/^true$/i.test(raw)) return true;
    if (/^false$/i.test(raw)) return false;
    const name = Array.isArray(names) ? names[0] : names;
    return this.fail(`${name} must be true or false, not '${raw}'`);
  }
}

/** A directory name made from a provider id (staging folders are per provider element). */
export function safeDirName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_') || 'cloud';
}
