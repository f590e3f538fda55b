import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHaNodeProperties } from '../config/ha-node.js';
import { parseMasterKey } from '../config/master-key.js';
import { parseProperties } from '../config/properties.js';
import { SystemConfig } from '../config/system-yaml.js';
import { decryptSecret, masterKeyFingerprint } from '../core/secrets.js';
import { databaseSettings, HaInitError, planCluster, writeCluster } from './ha-init.js';
import { balancerRoot, urlBaseFromXml } from './ha-verify.js';

describe('databaseSettings', () => {
  it('moves PostgreSQL credentials out of the URL', () => {
    expect(databaseSettings('postgres://arca:s3cret@db.example:5433/arca')).toEqual({
      type: 'postgresql',
      url: 'jdbc:postgresql://db.example:5433/arca',
      username: 'arca',
      password: 's3cret',
      display: 'jdbc:postgresql://db.example:5433/arca',
    });
    expect(databaseSettings('jdbc:postgresql://db/arca?user=u&password=p&sslmode=require', undefined, 'other')).toMatchObject({
      url: 'jdbc:postgresql://db:5432/arca?sslmode=require',
      username: 'u',
      password: 'other',
    });
  });

  it('keeps the MySQL or MariaDB flavour', () => {
    expect(databaseSettings('jdbc:mariadb://db:3307/arca?user=root')).toMatchObject({ type: 'mysql', url: 'jdbc:mariadb://db:3307/arca', username: 'root' });
    expect(databaseSettings('mysql://u:p@db/arca', 'v')).toMatchObject({ type: 'mysql', url: 'jdbc:mysql://db:3306/arca', username: 'v', password: 'p' });
  });

  it('refuses SQLite and what it does not know', () => {
    expect(() => databaseSettings('jdbc:sqlite:data/arca.db')).toThrow(/one node only/);
    expect(() => databaseSettings('oracle://db/x')).toThrow(HaInitError);
  });
});

describe('planCluster', () => {
  const db = 'postgres://u:p@127.0.0.1/arca';

  it('gives one host consecutive ports', () => {
    const plan = planCluster({ db, dir: '/srv/arca', 'base-port': '9001' });
    expect(plan.nodes.map((n) => [n.id, n.contextUrl, n.home])).toEqual([
      ['node1', 'http://127.0.0.1:9001/artifactory', '/srv/arca/node1'],
      ['node2', 'http://127.0.0.1:9002/artifactory', '/srv/arca/node2'],
      ['node3', 'http://127.0.0.1:9003/artifactory', '/srv/arca/node3'],
    ]);
    expect(plan.dataDir).toBe('/srv/arca/shared/data');
    expect(plan.backupDir).toBe('/srv/arca/shared/backup');
    expect(plan.lbUrl).toBe('http://127.0.0.1:8080');
    expect(plan.legacyPrimary).toBe(false);
  });

  it('gives one host per node the same port, IPv6 in brackets', () => {
    const plan = planCluster({ db, dir: '/srv/arca', nodes: '2', host: '10.0.0.5,fd00::6', 'shared-dir': '/mnt/nfs/arca', 'lb-listen': '10.0.0.1:80' });
    expect(plan.nodes.map((n) => n.contextUrl)).toEqual(['http://10.0.0.5:8081/artifactory', 'http://[fd00::6]:8081/artifactory']);
    expect(plan.dataDir).toBe('/mnt/nfs/arca/data');
    expect(plan.lbUrl).toBe('http://10.0.0.1:80');
    expect(planCluster({ db, dir: '/x', nodes: '2', host: 'a,b' }).lbUrl).toBe('http://BALANCER_HOST:8080');
  });

  it('refuses missing or inconsistent options', () => {
    expect(() => planCluster({ dir: '/x' })).toThrow(/--db is required/);
    expect(() => planCluster({ db })).toThrow(/--dir is required/);
    expect(() => planCluster({ db, dir: '/x', nodes: '3', host: 'a,b' })).toThrow(/2 hosts for 3 nodes/);
    expect(() => planCluster({ db, dir: '/x', nodes: '0' })).toThrow(/--nodes/);
    expect(() => planCluster({ db, dir: '/x', 'base-port': '65535' })).toThrow(/too high/);
  });
});

describe('ha verify helpers', () => {
  it('finds the balancer root and the URL base', () => {
    expect(balancerRoot('http://lb:8080/')).toBe('http://lb:8080');
    expect(balancerRoot('http://lb:8080/artifactory/')).toBe('http://lb:8080');
    expect(balancerRoot('https://example.com/repo/artifactory')).toBe('https://example.com/repo');
    expect(urlBaseFromXml('<config><urlBase>http://lb/artifactory?a=1&amp;b=2</urlBase></config>')).toBe('http://lb/artifactory?a=1&b=2');
    expect(urlBaseFromXml('<config><urlBase></urlBase></config>')).toBe('');
    expect(urlBaseFromXml('<config/>')).toBeUndefined();
  });
});

describe('writeCluster', () => {
  it('writes homes the node configuration readers accept, with the legacy primary layout on request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-ha-init-'));
    try {
      const plan = planCluster({ db: 'jdbc:mariadb://db:3306/arca?user=arca&password=pw', dir, nodes: '2', host: 'node-a.example,node-b.example', workers: '2', 'legacy-primary': true });
      const { fingerprint } = writeCluster(plan, new Date(0));
      const key = parseMasterKey(readFileSync(join(dir, 'node1/etc/security/master.key'), 'utf8'), 'master.key');
      expect(masterKeyFingerprint(key)).toBe(fingerprint);
      for (const [i, host] of [[1, 'node-a.example'], [2, 'node-b.example']] as const) {
        const etc = join(dir, `node${i}`, 'etc');
        expect(statSync(join(etc, 'security')).mode & 0o777).toBe(0o700);
        expect(statSync(join(etc, 'db.properties')).mode & 0o777).toBe(0o600);
        const ha = loadHaNodeProperties(join(etc, 'ha-node.properties'))!;
        expect(ha.warnings).toEqual([]);
        expect(ha.props).toEqual({
          nodeId: `node${i}`,
          contextUrl: `http://${host}:8081/artifactory`,
          membershipPort: 0,
          primary: i === 1,
          haDataDir: join(dir, 'shared/data'),
          haBackupDir: join(dir, 'shared/backup'),
          hazelcastInterface: undefined,
        });
        const system = SystemConfig.load(join(etc, 'system.yaml'), {});
        expect(system.get('shared.node.taskAffinity')).toBe(i === 1 ? 'any' : 'none');
        expect(system.get('artifactory.port')).toBe(8081);
        expect(system.get('arca.workers')).toBe(2);
        expect(system.get('arca.host')).toBe('0.0.0.0'); // a host name: bind to every address
        const db = parseProperties(readFileSync(join(etc, 'db.properties'), 'utf8'));
        expect(db.get('type')).toBe('mysql');
        expect(db.get('url')).toBe('jdbc:mariadb://db:3306/arca');
        expect(db.get('username')).toBe('arca');
        expect(decryptSecret(key, db.get('password')!)).toBe('pw');
      }
      expect(readFileSync(join(dir, 'nginx/nginx.conf'), 'utf8')).toContain('server node-b.example:8081 max_fails=2');
      expect(readFileSync(join(dir, 'haproxy/haproxy.cfg'), 'utf8')).toContain('server node2 node-b.example:8081 check');
      expect(() => writeCluster(plan)).toThrow(/Refusing to overwrite: .*node1, .*node2, .*nginx.conf, .*haproxy.cfg already exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
