import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { X2jOptions } from 'fast-xml-parser';
import { isArcaError, ConfigError } from '../core/errors.js';
import { parseXml } from '../core/xml.js';

export const DEFAULT_BINARYSTORE_XML = `<config version="1">
    <chain template="file-system"/>
</config>
`;

/** One element of binarystore.xml, in document order, with its trimmed text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (trimmed); '' for an empty element. */
  text: string;
}

/**
 * binarystore.xml as written, before any template or default is applied: the `<chain>`
 * element (a `template` attribute or a tree of provider elements) and the top-level
 * `<provider>` elements that set parameters by id. `binstore/chain/resolve.ts` interprets it.
 */
export interface BinarystoreDocument {
  /** The file the document came from (named in every error), or `(default)`. */
  file: string;
  /** `config@version`: only a marker (`1`, `v1`, `2`, `4` are seen). */
  version?: string;
  chain: XmlElement;
  /** Top-level `<provider id type>` elements: parameter overrides matched by id. */
  providers: XmlElement[];
  /** Other top-level elements (ignored; reported as warnings by the resolver). */
  others: XmlElement[];
}

type Ordered = Record<string, unknown>;

function toElement(node: Ordered): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (name === undefined || name === '#text' || name === '#comment' || name.startsWith('?')) return undefined;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries((node[':@'] ?? {}) as Record<string, unknown>)) attrs[k] = String(v);
  const children: XmlElement[] = [];
  let text = '';
  for (const c of (node[name] ?? []) as Ordered[]) {
    if ('#text' in c) text += String(c['#text']);
    else {
      const el = toElement(c);
      if (el) children.push(el);
    }
  }
  return { name, attrs, children, text: text.trim() };
}

const PARSER_OPTIONS: X2jOptions = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: true,
  parseTagValue: false,
  parseAttributeValue: false,
  commentPropName: '#comment',
};

/** Parses binarystore.xml text into its raw element tree; `file` is named in every error. */
export function parseBinarystoreXml(text: string, file: string): BinarystoreDocument {
  let parsed: Ordered[];
  try {
    parsed = parseXml(text, file, PARSER_OPTIONS) as Ordered[];
  } catch (err) {
    // The bounded parser's BAD_REQUEST ("Malformed <file>: <reason>") is a configuration error here.
    if (isArcaError(err, 'BAD_REQUEST')) {
      const reason = err.message.replace(`Malformed ${file}: `, '');
      throw new ConfigError(`${file}: invalid XML${err.details?.line === undefined ? '' : ` at line ${String(err.details.line)}`}: ${reason}`);
    }
    throw err;
  }
  const roots = parsed.map(toElement).filter((e): e is XmlElement => e !== undefined);
  const config = roots[0];
  if (!config || config.name !== 'config' || roots.length > 1) throw new ConfigError(`${file}: the root element must be <config>`);
  const chains = config.children.filter((c) => c.name === 'chain');
  if (chains.length === 0) throw new ConfigError(`${file}: <config> has no <chain> element`);
  if (chains.length > 1) throw new ConfigError(`${file}: <config> has ${chains.length} <chain> elements; exactly one is allowed`);
  return {
    file,
    version: config.attrs.version,
    chain: chains[0],
    providers: config.children.filter((c) => c.name === 'provider'),
    others: config.children.filter((c) => c.name !== 'chain' && c.name !== 'provider'),
  };
}

/** Reads `etc/binarystore.xml`; an absent file means the default (file-system template). */
export function readBinarystoreXml(file: string): BinarystoreDocument {
  if (!existsSync(file)) return parseBinarystoreXml(DEFAULT_BINARYSTORE_XML, file);
  return parseBinarystoreXml(readFileSync(file, 'utf8'), file);
}

/**
 * The parameters an element sets: child elements holding text and `<property name value/>`
 * (nested provider elements excluded). Later settings win.
 */
export function elementParams(el: XmlElement): Map<string, string> {
  const params = new Map<string, string>();
  for (const c of el.children) {
    if (c.name === 'provider' || c.name === 'sub-provider' || c.name === 'dynamic-provider') continue;
    if (c.name === 'property') {
      if (c.attrs.name !== undefined) params.set(c.attrs.name, c.attrs.value ?? c.text);
    } else if (c.children.length === 0) {
      params.set(c.name, c.text);
    }
  }
  return params;
}

/** A directory parameter: absolute as given, else relative to `base` (the seed's rule for fileStoreDir). */
export function storePath(base: string, value: string): string {
  return isAbsolute(value) ? value : join(base, value);
}

/** The file-system paths of a plain `file-system` chain. */
export interface FileSystemStoreConfig {
  template: string;
  baseDataDir: string;
  fileStoreDir: string;
  tempDir: string;
}

/**
 * The paths of a plain file-system chain (the default template), for callers that only need
 * those. Any other chain is built by `binstore/chain` (resolve + build).
 */
export function loadBinarystoreConfig(file: string, dataDir: string): FileSystemStoreConfig {
  const doc = readBinarystoreXml(file);
  const root = doc.chain.children.find((c) => c.name === 'provider');
  const template = doc.chain.attrs.template ?? root?.attrs.type ?? '';
  if (template !== 'file-system') {
    throw new ConfigError(`${file}: <chain template="${template}"> is not a plain file-system chain`);
  }
  const params = root ? elementParams(root) : new Map<string, string>();
  for (const p of doc.providers) {
    if ((p.attrs.id ?? root?.attrs.id ?? 'file-system') !== (root?.attrs.id ?? 'file-system')) continue;
    for (const [k, v] of elementParams(p)) params.set(k, v);
  }
  const baseDataDir = params.get('baseDataDir') ? storePath(dataDir, params.get('baseDataDir')!) : dataDir;
  return {
    template,
    baseDataDir,
    fileStoreDir: storePath(baseDataDir, params.get('fileStoreDir') || 'filestore'),
    tempDir: storePath(baseDataDir, params.get('tempDir') || 'tmp'),
  };
}
