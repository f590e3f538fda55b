import { join, resolve } from 'node:path';
import { systemPropertiesPath } from './system-properties.js';

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
