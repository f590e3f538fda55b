import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptSecret } from '../core/secrets.js';
import { loadBinarystoreConfig } from './binarystore.js';
import { parseMysqlUrl, parsePostgresUrl, resolveDatabaseConfig } from './db-config.js';
import { ensureHome, homeLayout } from './home.js';
import { ConfigError } from '../core/errors.js';
import { loadMasterKey } from './master-key.js';
import { SystemConfig } from './system-yaml.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arca-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('home layout', () => {
  it('creates the seed layout once and never overwrites a file', () => {
    const layout = homeLayout(dir);
    const created = ensureHome(layout);
    for (const p of [layout.systemYaml, layout.dbProperties, layout.binarystoreXml, layout.tmp, layout.logs, layout.backup]) {
      expect(created).toContain(p);
    }
    expect(readFileSync(layout.binarystoreXml, 'utf8')).toContain('<chain template="file-system"/>');
    expect(statSync(layout.security).mode & 0o777).toBe(0o700);
    writeFileSync(layout.systemYaml, 'shared: {node: {id: mine}}\n');
    expect(ensureHome(layout)).toEqual([]);
    expect(readFileSync(layout.systemYaml, 'utf8')).toContain('mine');
  });
});

describe('master key', () => {
  it('creates a 32-hex AES-128 key with mode 0600 and reuses it', () => {
    const file = join(dir, 'security', 'master.key');
    const first = loadMasterKey(file, true);
    expect(first.created).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadMasterKey(file, true);
    expect(again.created).toBe(false);
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('accepts a 64-hex key and refuses a malformed one with a clear error', () => {
    const file = join(dir, 'master.key');
    writeFileSync(file, 'ab'.repeat(32) + '\n');
    expect(loadMasterKey(file, false).key.length).toBe(32);
    writeFileSync(file, 'not-a-key');
    expect(() => loadMasterKey(file, true)).toThrow(ConfigError);
    expect(() => loadMasterKey(file, true)).toThrow(/Malformed master key.*openssl rand -hex 16/);
    writeFileSync(file, 'abc123');
    expect(() => loadMasterKey(file, true)).toThrow(/found 6 characters/);
  });

  it('names the file to copy when it is missing and may not be created', () => {
    expect(() => loadMasterKey(join(dir, 'none', 'master.key'), false)).toThrow(/master.key is missing: copy it/);
  });
});

describe('system.yaml', () => {
  it('reads values, applies JF_ and ARCA_ overrides, and falls back to defaults', () => {
    const file = join(dir, 'system.yaml');
    writeFileSync(file, 'shared:\n  node:\n    id: art1\n    haEnabled: true\nartifactory:\n  port: 9000\n');
    const cfg = SystemConfig.load(file, {});
    expect(cfg.nodeId()).toBe('art1');
    expect(cfg.bool('shared.node.haEnabled')).toBe(true);
    expect(cfg.number('artifactory.port')).toBe(9000);
    expect(cfg.get('shared.node.taskAffinity')).toBe('any');
    const env = SystemConfig.load(file, { JF_SHARED_NODE_ID: 'from-jf', ARCA_ARTIFACTORY_PORT: '9100' });
    expect(env.nodeId()).toBe('from-jf');
    expect(env.number('artifactory.port')).toBe(9100);
    expect(SystemConfig.load(file, { ARCA_SHARED_NODE_ID: 'a', JF_SHARED_NODE_ID: 'j' }).nodeId()).toBe('a');
  });

  it('refuses invalid YAML naming the file', () => {
    const file = join(dir, 'system.yaml');
    writeFileSync(file, 'shared: [unclosed');
    expect(() => SystemConfig.load(file, {})).toThrow(/Invalid YAML in .*system.yaml/);
  });
});

describe('database settings', () => {
  const key = Buffer.alloc(16, 7);
  const system = (env: NodeJS.ProcessEnv = {}) => SystemConfig.load(join(dir, 'etc', 'system.yaml'), env);

  it('defaults to SQLite in data/arca.db', () => {
    mkdirSync(join(dir, 'etc'));
    const cfg = resolveDatabaseConfig({ home: dir, etcDir: join(dir, 'etc'), system: system(), masterKey: key });
    expect(cfg).toMatchObject({ type: 'sqlite', sqliteFile: join(dir, 'data', 'arca.db') });
  });

  it('reads PostgreSQL from db.properties with a JDBC URL and an encrypted password', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(
      join(dir, 'etc', 'db.properties'),
      `type=postgresql\nurl=jdbc:postgresql://db.example:5433/arca\nusername=arca\npassword=${encryptSecret(key, 's3cret')}\npool.max.active=40\n`,
    );
    const cfg = resolveDatabaseConfig({ home: dir, etcDir: join(dir, 'etc'), system: system(), masterKey: key });
    expect(cfg).toMatchObject({ type: 'postgresql', poolMaxActive: 40, pg: { host: 'db.example', port: 5433, database: 'arca', user: 'arca', password: 's3cret' } });
    expect(cfg.displayUrl).not.toContain('s3cret');
  });

  it('refuses a password encrypted with another master key', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'db.properties'), `type=postgresql\nurl=postgres://h/db\npassword=${encryptSecret(Buffer.alloc(16, 1), 'x')}\n`);
    expect(() => resolveDatabaseConfig({ home: dir, etcDir: join(dir, 'etc'), system: system(), masterKey: key })).toThrow(/cannot decrypt password/);
  });

  it('lets system.yaml shared.database (and JF_ env) win over db.properties', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'db.properties'), 'type=sqlite\n');
    const cfg = resolveDatabaseConfig({
      home: dir,
      etcDir: join(dir, 'etc'),
      system: system({ JF_SHARED_DATABASE_TYPE: 'postgresql', JF_SHARED_DATABASE_URL: 'postgres://u:p@pg:5432/art' }),
      masterKey: key,
    });
    expect(cfg).toMatchObject({ type: 'postgresql', source: 'system.yaml shared.database', pg: { host: 'pg', user: 'u', password: 'p', database: 'art' } });
  });

  it('names unsupported and unknown types', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'db.properties'), 'type=oracle\n');
    expect(() => resolveDatabaseConfig({ home: dir, etcDir: join(dir, 'etc'), system: system(), masterKey: key })).toThrow(/unknown database type 'oracle'/);
  });

  it('parses PostgreSQL URL forms', () => {
    expect(parsePostgresUrl('jdbc:postgresql://localhost/artifactory?user=a&password=b')).toMatchObject({ host: 'localhost', port: 5432, database: 'artifactory', user: 'a', password: 'b' });
    expect(parsePostgresUrl('postgresql://x:y@h:1/d')).toMatchObject({ host: 'h', port: 1, user: 'x', password: 'y', database: 'd' });
    expect(() => parsePostgresUrl('jdbc:mysql://h/d')).toThrow(/Not a PostgreSQL URL|Malformed|Unsupported/);
  });
});

describe('binarystore.xml', () => {
  it('reads the default file-system template and provider parameters', () => {
    const file = join(dir, 'binarystore.xml');
    writeFileSync(file, '<config version="2"><chain template="file-system"/><provider id="file-system" type="file-system"><fileStoreDir>/srv/store</fileStoreDir><property name="tempDir" value="staging"/></provider></config>');
    expect(loadBinarystoreConfig(file, '/data')).toEqual({ template: 'file-system', baseDataDir: '/data', fileStoreDir: '/srv/store', tempDir: '/data/staging' });
  });

  it('stops with an error naming the problem', () => {
    const file = join(dir, 'binarystore.xml');
    writeFileSync(file, '<config><chain template="file-system"></config>');
    expect(() => loadBinarystoreConfig(file, '/data')).toThrow(/invalid XML/);
    writeFileSync(file, '<config version="1"><chain template="no-such"/></config>');
    expect(() => loadBinarystoreConfig(file, '/data')).toThrow(/template="no-such"/);
  });
});

describe('environment names of arca.* keys', () => {
  it('drop the doubled prefix', () => {
    const cfg = SystemConfig.load(join(dir, 'none.yaml'), { ARCA_GC_GRACESECS: '12', ARCA_LOGIN_MAXFAILURES: '3' });
    expect(cfg.number('arca.gc.graceSecs')).toBe(12);
    expect(cfg.number('arca.login.maxFailures')).toBe(3);
    expect(cfg.number('arca.gc.intervalSecs')).toBe(14400);
  });
});

describe('MySQL/MariaDB settings', () => {
  it('parses JDBC and native URLs', () => {
    expect(parseMysqlUrl('jdbc:mysql://db:3307/artdb?useSSL=true&user=a&password=b')).toEqual({ host: 'db', port: 3307, database: 'artdb', user: 'a', password: 'b', ssl: true });
    expect(parseMysqlUrl('jdbc:mariadb://localhost/art', 'u', 'p')).toEqual({ host: 'localhost', port: 3306, database: 'art', user: 'u', password: 'p' });
    expect(parseMysqlUrl('mysql://x:y@h/d')).toMatchObject({ host: 'h', user: 'x', password: 'y', database: 'd' });
    expect(() => parseMysqlUrl('jdbc:mysql://h:3306/')).toThrow(/names no database/);
    expect(() => parseMysqlUrl('postgres://h/d')).toThrow(/Not a MySQL/);
  });

  it('reads type=mariadb from db.properties', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'db.properties'), 'type=mariadb\nurl=jdbc:mariadb://m:3306/arca\nusername=arca\npassword=pw\npool.max.active=20\n');
    const cfg = resolveDatabaseConfig({ home: dir, etcDir: join(dir, 'etc'), system: SystemConfig.load(join(dir, 'etc', 'system.yaml'), {}), masterKey: Buffer.alloc(16) });
    expect(cfg).toMatchObject({ type: 'mysql', poolMaxActive: 20, mysql: { host: 'm', database: 'arca', user: 'arca', password: 'pw' } });
    expect(cfg.displayUrl).toBe('mysql://arca@m:3306/arca');
  });
});
