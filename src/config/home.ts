import { existsSync, writeFileSync } from 'node:fs';
import { DEFAULT_BINARYSTORE_XML } from './binarystore.js';
import { DEFAULT_DB_PROPERTIES } from './db-config.js';
import { DEFAULT_SYSTEM_YAML } from './system-yaml.js';
import { defaultSystemProperties } from './system-properties.js';
import type { HomeLayout } from './home-layout.js';
import { mkdirPrivate, PRIVATE_FILE_MODE } from './private-modes.js';

// The layout is its own module so that `arca start`'s supervisor can find system.yaml without
// loading the default files' writers (and the XML parser behind them).
export { homeLayout, type HomeLayout } from './home-layout.js';

function writeIfMissing(file: string, content: string): boolean {
  if (existsSync(file)) return false;
  writeFileSync(file, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  return true;
}

/**
 * Creates whatever part of the layout is missing, private (directories 0700, files 0600);
 * never overwrites an existing file. `securePrivatePaths` fixes the modes of existing ones.
 */
export function ensureHome(layout: HomeLayout): string[] {
  const created: string[] = [];
  for (const dir of [layout.etc, layout.security, layout.data, layout.tmp, layout.logs, layout.backup]) {
    if (!existsSync(dir)) {
      mkdirPrivate(dir);
      created.push(dir);
    }
  }
  if (writeIfMissing(layout.systemYaml, DEFAULT_SYSTEM_YAML)) created.push(layout.systemYaml);
  if (writeIfMissing(layout.dbProperties, DEFAULT_DB_PROPERTIES)) created.push(layout.dbProperties);
  if (writeIfMissing(layout.binarystoreXml, DEFAULT_BINARYSTORE_XML)) created.push(layout.binarystoreXml);
  if (writeIfMissing(layout.systemProperties, defaultSystemProperties())) created.push(layout.systemProperties);
  return created;
}
