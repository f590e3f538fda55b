import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ConfigError } from './master-key.js';

export const DEFAULT_BINARYSTORE_XML = `<config version="1">
    <chain template="file-system"/>
</config>
`;

/** The resolved settings of the file-system provider (the only chain this release builds). */
export interface FileSystemStoreConfig {
  template: string;
  baseDataDir: string;
  fileStoreDir: string;
  tempDir: string;
}

/**
 * Reads `etc/binarystore.xml`. This release supports the `file-system` template and an
 * explicit single `file-system` provider with `baseDataDir`, `fileStoreDir` and `tempDir`
 * given as child elements or `<property name value/>`.
 */
export function loadBinarystoreConfig(file: string, dataDir: string): FileSystemStoreConfig {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : DEFAULT_BINARYSTORE_XML;
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new ConfigError(`${file}: invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['provider', 'property'].includes(name) });
  const doc = parser.parse(text) as Record<string, any>;
  const config = doc.config;
  if (!config || typeof config !== 'object') throw new ConfigError(`${file}: the root element must be <config>`);
  const chain = config.chain;
  if (chain === undefined) throw new ConfigError(`${file}: <config> has no <chain> element`);
  const template: string = chain['@template'] ?? (chain.provider?.[0]?.['@type'] as string | undefined) ?? '';
  if (template !== 'file-system') {
    throw new ConfigError(`${file}: <chain template="${template}"> is not supported by this release (supported: file-system)`);
  }
  const params: Record<string, string> = {};
  for (const p of (config.provider ?? []) as Record<string, any>[]) {
    if (p['@id'] !== 'file-system' && p['@type'] !== 'file-system') {
      throw new ConfigError(`${file}: <provider id="${p['@id']}" type="${p['@type']}"> is not supported by this release`);
    }
    for (const [k, v] of Object.entries(p)) {
      if (!k.startsWith('@') && k !== 'property' && (typeof v === 'string' || typeof v === 'number')) params[k] = String(v);
    }
    for (const prop of (p.property ?? []) as Record<string, string>[]) params[prop['@name']] = String(prop['@value']);
  }
  const baseDataDir = params.baseDataDir ? (isAbsolute(params.baseDataDir) ? params.baseDataDir : join(dataDir, params.baseDataDir)) : dataDir;
  const resolveIn = (v: string) => (isAbsolute(v) ? v : join(baseDataDir, v));
  return {
    template,
    baseDataDir,
    fileStoreDir: resolveIn(params.fileStoreDir ?? 'filestore'),
    tempDir: resolveIn(params.tempDir ?? 'tmp'),
  };
}
