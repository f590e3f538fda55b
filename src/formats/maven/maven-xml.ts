import type { X2jOptions } from 'fast-xml-parser';
import { parseXml as parseBoundedXml } from '../../core/xml.js';

const ARRAYS = new Set([
  'metadata.versioning.versions.version',
  'metadata.versioning.snapshotVersions.snapshotVersion',
  'metadata.plugins.plugin',
]);

const OPTIONS: X2jOptions = {
  ignoreAttributes: true,
  parseTagValue: false,
  removeNSPrefix: true,
  isArray: (_name, jpath) => ARRAYS.has(String(jpath)),
};

/**
 * Parses a small XML document (a POM, maven-metadata.xml) into plain objects with string
 * values, through the bounded parser of `core/xml.ts`: malformed XML, entity declarations
 * and documents past a size, depth or element-count limit are refused with BAD_REQUEST
 * naming `what` and the limit.
 */
export function parseXml(data: Buffer | string, what: string): Record<string, unknown> {
  return parseBoundedXml(data, what, OPTIONS) as Record<string, unknown>;
}
/** A child element's text, or undefined when absent or not text. */
export function text(node: unknown, key: string): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[key];
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function child(node: unknown, key: string): Record<string, unknown> | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function children(node: unknown, key: string): unknown[] {
  if (node === null || typeof node !== 'object') return [];
  const v = (node as Record<string, unknown>)[key];
  return Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v];
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
