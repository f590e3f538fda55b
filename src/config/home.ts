import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_BINARYSTORE_XML } from './binarystore.js';
import { DEFAULT_DB_PROPERTIES } from './db-config.js';
import { DEFAULT_SYSTEM_YAML } from './system-yaml.js';
import { defaultSystemProperties, systemPropertiesPath } from './system-properties.js';
import { mkdirPrivate, PRIVATE_FILE_MODE } from './private-modes.js';

/** The node's home directory, laid out like the seed's `$ARTIFACTORY_HOME`. */
export interface HomeLayout {
  home: string;
  etc: string;
  security: string;
  systemYaml: string;
  dbProperties: string;
  binarystoreXml: string;
  /** `etc/artifactory.system.properties` (the seed's name). */
  systemProperties: string;
  masterKey: string;
  initialAdminPassword: string;
  data: string;
  filestore: string;
  tmp: string;
  logs: string;
  backup: string;
}

export function homeLayout(homeDir: string): HomeLayout {
  const home = resolve(homeDir);
  const etc = join(home, 'etc');
  const security = join(etc, 'security');
  const data = join(home, 'data');
  return {
    home,
    etc,
    security,
    systemYaml: join(etc, 'system.yaml'),
    dbProperties: join(etc, 'db.properties'),
    binarystoreXml: join(etc, 'binarystore.xml'),
    systemProperties: systemPropertiesPath(etc),
    masterKey: join(security, 'master.key'),
    initialAdminPassword: join(security, 'initial-admin-password'),
    data,
    filestore: join(data, 'filestore'),
    tmp: join(data, 'tmp'),
    logs: join(home, 'logs'),
    backup: join(home, 'backup'),
  };
}

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
