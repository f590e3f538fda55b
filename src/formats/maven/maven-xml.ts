import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ArcaError } from '../../core/errors.js';

const ARRAYS = new Set([
  'metadata.versioning.versions.version',
  'metadata.versioning.snapshotVersions.snapshotVersion',
  'metadata.plugins.plugin',
]);

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  removeNSPrefix: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (_name, jpath) => ARRAYS.has(String(jpath)),
});

/**
 * Parses a small XML document (a POM, maven-metadata.xml) into plain objects with string
 * values. Malformed XML and documents that declare entities are refused with BAD_REQUEST
 * naming `what` and the parser's reason.
 */
export function parseXml(data: Buffer | string, what: string): Record<string, unknown> {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  if (/<!ENTITY/i.test(text)) throw new ArcaError('BAD_REQUEST', `Malformed ${what}: entity declarations are not allowed`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new ArcaError('BAD_REQUEST', `Malformed ${what}: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const doc = parser.parse(text) as Record<string, unknown>;
  return doc;
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
