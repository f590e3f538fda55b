import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseMysqlUrl, parsePostgresUrl } from '../config/db-config.js';
import { homeLayout } from '../config/home.js';
import { encryptSecret, masterKeyFingerprint } from '../core/secrets.js';
import { haproxyConfig, nginxConfig, parseListen, type LbNode } from './lb-config.js';

export const HA_INIT_USAGE = `Usage: arca ha init --db URL --dir DIR [options]

Writes the homes of a new cluster: DIR/node1 … DIR/nodeN, a shared data and backup
directory, one master key copied to every home, and balancer configurations.
  --db URL            the shared database: jdbc:postgresql://…, postgres://…, jdbc:mysql://…,
                      jdbc:mariadb://…, mysql://…; credentials in the URL or below
  --db-user NAME      database user (else the URL's)
  --db-password PW    database password (else the URL's); stored encrypted with the master key
  --dir DIR           where to write the homes
  --nodes N           number of nodes (default 3)
  --host H[,H…]       address of the nodes in their context URLs (default 127.0.0.1); one for
                      all nodes (ports base-port, base-port+1, …) or one per node (all on base-port)
  --base-port N       HTTP port of the first node (default 8081)
  --workers N         worker processes per node (default: one per CPU)
  --shared-dir DIR    shared directory (NFS) for data/ and backup/ (default DIR/shared)
  --lb-listen ADDR    [address:]port of the balancer (default 8080)
  --legacy-primary    primary=true on node1 and taskAffinity none on the others, so only node1
                      runs cluster-wide tasks (the seed's pre-7.17.4 layout)
`;

export class HaInitError extends Error {}

type DbKind = 'postgresql' | 'mysql';

interface DbSettings {
  type: DbKind;
  url: string;
  username?: string;
  password?: string;
  display: string;
}

/** The database URL of db.properties, without credentials (they go to username/password). */
export function databaseSettings(raw: string, user?: string, password?: string): DbSettings {
  const u = raw.trim();
  if (/^(jdbc:)?(postgres|postgresql):/i.test(u)) {
    const c = parsePostgresUrl(u);
    const url = `jdbc:postgresql://${c.host}:${c.port}/${encodeURIComponent(c.database ?? 'postgres')}${c.ssl ? '?sslmode=require' : ''}`;
    return { type: 'postgresql', url, username: user ?? c.user, password: password ?? c.password, display: url };
  }
  if (/^(jdbc:)?(mysql|mariadb):/i.test(u)) {
    const c = parseMysqlUrl(u);
    const flavour = /^(jdbc:)?mariadb:/i.test(u) ? 'mariadb' : 'mysql';
    const url = `jdbc:${flavour}://${c.host}:${c.port}/${encodeURIComponent(c.database)}${c.ssl ? '?useSSL=true' : ''}`;
    return { type: 'mysql', url, username: user ?? c.user, password: password ?? c.password, display: url };
  }
  if (/sqlite/i.test(u)) throw new HaInitError('The embedded SQLite database serves one node only: a cluster needs PostgreSQL or MySQL/MariaDB');
  throw new HaInitError(`--db '${raw}' is not a PostgreSQL or MySQL/MariaDB URL`);
}

/** A Java-properties value: backslashes doubled, a leading space escaped, no line breaks. */
function prop(value: string): string {
  if (/[\r\n]/.test(value)) throw new HaInitError(`Value '${value}' contains a line break`);
  return value.replace(/\\/g, '\\\\').replace(/^ /, '\\ ');
}

function intArg(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HaInitError(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

export interface PlannedNode {
  id: string;
  home: string;
  host: string;
  port: number;
  contextUrl: string;
}

export interface HaInitPlan {
  dir: string;
  nodes: PlannedNode[];
  dataDir: string;
  backupDir: string;
  db: DbSettings;
  lbListen: string;
  lbUrl: string;
  nginxDir: string;
  haproxyDir: string;
  workers?: number;
  legacyPrimary: boolean;
}

export function planCluster(values: Record<string, string | boolean | undefined>): HaInitPlan {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (!str('db')) throw new HaInitError('--db is required');
  if (!str('dir')) throw new HaInitError('--dir is required');
  const count = intArg('nodes', str('nodes'), 3, 1, 64);
  const basePort = intArg('base-port', str('base-port'), 8081, 1, 65535);
  const workers = str('workers') === undefined ? undefined : intArg('workers', str('workers'), 0, 1, 256);
  const hosts = (str('host') ?? '127.0.0.1').split(',').map((h) => h.trim()).filter(Boolean);
  if (hosts.length !== 1 && hosts.length !== count) throw new HaInitError(`--host gives ${hosts.length} hosts for ${count} nodes: give one, or one per node`);
  const oneHost = hosts.length === 1;
  if (oneHost && basePort + count - 1 > 65535) throw new HaInitError('--base-port is too high for that many nodes');
  const dir = resolve(str('dir')!);
  const shared = resolve(str('shared-dir') ?? join(dir, 'shared'));
  const nodes: PlannedNode[] = [];
  for (let i = 0; i < count; i++) {
    const host = oneHost ? hosts[0] : hosts[i];
    const port = oneHost ? basePort + i : basePort;
    const urlHost = isIP(host) === 6 ? `[${host}]` : host;
    const contextUrl = `http://${urlHost}:${port}/artifactory`;
    try {
      new URL(contextUrl);
    } catch {
      throw new HaInitError(`--host '${host}' does not make a valid URL`);
    }
    nodes.push({ id: `node${i + 1}`, home: join(dir, `node${i + 1}`), host, port, contextUrl });
  }
  const lbListen = str('lb-listen') ?? '8080';
  const listen = parseListen(lbListen);
  // The balancer's URL for the printed commands: its listen address, else the nodes' one host.
  const lbHost = listen.address && listen.address !== '0.0.0.0' && listen.address !== '*' ? listen.address : oneHost ? nodes[0].host : 'BALANCER_HOST';
  const lbUrlHost = isIP(lbHost) === 6 ? `[${lbHost}]` : lbHost;
  return {
    dir,
    nodes,
    dataDir: join(shared, 'data'),
    backupDir: join(shared, 'backup'),
    db: databaseSettings(str('db')!, str('db-user'), str('db-password')),
    lbListen,
    lbUrl: `http://${lbUrlHost}:${listen.port}`,
    nginxDir: join(dir, 'nginx'),
    haproxyDir: join(dir, 'haproxy'),
    workers,
    legacyPrimary: values['legacy-primary'] === true,
  };
}

function write(file: string, text: string, mode: number): void {
  writeFileSync(file, text, { mode, flag: 'wx' });
  chmodSync(file, mode);
}

/** Writes the plan; refuses before writing anything when a home or balancer file exists. */
export function writeCluster(plan: HaInitPlan, now = new Date()): { fingerprint: string } {
  const targets = [...plan.nodes.map((n) => n.home), join(plan.nginxDir, 'nginx.conf'), join(plan.haproxyDir, 'haproxy.cfg')];
  const existing = targets.filter((t) => existsSync(t));
  if (existing.length > 0) throw new HaInitError(`Refusing to overwrite: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}`);
  const key = randomBytes(16);
  const keyText = key.toString('hex') + '\n';
  for (const d of [plan.dataDir, plan.backupDir, plan.nginxDir, plan.haproxyDir]) mkdirSync(d, { recursive: true });
  const stamp = now.toISOString();
  plan.nodes.forEach((n, i) => {
    const layout = homeLayout(n.home);
    mkdirSync(layout.etc, { recursive: true });
    mkdirSync(layout.security, { recursive: true, mode: 0o700 });
    chmodSync(layout.security, 0o700);
    write(layout.masterKey, keyText, 0o600);
    const primary = plan.legacyPrimary && i === 0;
    const affinity = plan.legacyPrimary && i > 0 ? 'none' : 'any';
    write(
      join(layout.etc, 'ha-node.properties'),
      [
        `## Arca HA node ${i + 1} of ${plan.nodes.length}, written by 'arca ha init' at ${stamp}.`,
        '## The seed\'s keys; keep this file mode 644. See docs/configuration.md.',
        `node.id=${prop(n.id)}`,
        `context.url=${prop(n.contextUrl)}`,
        'membership.port=0',
        `primary=${primary}`,
        `artifactory.ha.data.dir=${prop(plan.dataDir)}`,
        `artifactory.ha.backup.dir=${prop(plan.backupDir)}`,
        '',
      ].join('\n'),
      0o644,
    );
    const db = plan.db;
    write(
      layout.dbProperties,
      [
        `## The cluster's shared database, the same on every node (written by 'arca ha init').`,
        `## Connections: each node opens up to pool.max.active (default 98) per worker process;`,
        `## docs/ha.md gives the whole budget the database server must accept.`,
        `type=${db.type}`,
        `url=${prop(db.url)}`,
        ...(db.username ? [`username=${prop(db.username)}`] : []),
        ...(db.password ? [`password=${prop(encryptSecret(key, db.password))}`] : []),
        '',
      ].join('\n'),
      0o600,
    );
    write(
      layout.systemYaml,
      [
        `## Arca system configuration of ${n.id}, written by 'arca ha init'. node.id, context.url and`,
        '## the shared directories are in ha-node.properties. See docs/configuration.md for every key.',
        'configVersion: 1',
        'shared:',
        '  node:',
        `    taskAffinity: ${affinity}`,
        'artifactory:',
        `  port: ${n.port}`,
        ...(isIP(n.host) || plan.workers !== undefined ? ['arca:'] : []),
        // An address literal is the node's own: bind to it. A host name: bind to every address.
        ...(isIP(n.host) ? [`  host: "${n.host}"`] : []),
        ...(plan.workers !== undefined ? [`  workers: ${plan.workers}`] : []),
        '',
      ].join('\n'),
      0o644,
    );
  });
  const lbNodes: LbNode[] = plan.nodes.map((n) => ({ id: n.id, contextUrl: n.contextUrl }));
  const source = `'arca ha init' in ${plan.dir}`;
  write(join(plan.nginxDir, 'nginx.conf'), nginxConfig({ nodes: lbNodes, listen: plan.lbListen, source, generatedAt: stamp }), 0o644);
  write(join(plan.haproxyDir, 'haproxy.cfg'), haproxyConfig({ nodes: lbNodes, listen: plan.lbListen, source, generatedAt: stamp }), 0o644);
  return { fingerprint: masterKeyFingerprint(key) };
}

export function summary(plan: HaInitPlan, fingerprint: string): string {
  const w = Math.max(...plan.nodes.map((n) => n.id.length));
  const first = plan.nodes[0];
  return [
    `Wrote a ${plan.nodes.length}-node Arca cluster in ${plan.dir}:`,
    ...plan.nodes.map((n) => `  ${n.id.padEnd(w)}  ${n.contextUrl}  home ${n.home}`),
    `  database       ${plan.db.display} (etc/db.properties of every home)`,
    `  shared data    ${plan.dataDir} (artifactory.ha.data.dir)`,
    `  shared backup  ${plan.backupDir} (artifactory.ha.backup.dir)`,
    `  master key     etc/security/master.key, the same in every home (fingerprint ${fingerprint})`,
    `  task affinity  ${plan.legacyPrimary ? `only ${first.id} (primary=true) runs cluster-wide tasks` : 'any: every node may run cluster-wide tasks; no primary'}`,
    `  balancer       ${join(plan.nginxDir, 'nginx.conf')} and ${join(plan.haproxyDir, 'haproxy.cfg')}, listening on ${plan.lbListen}`,
    '',
    `Start the first node alone (it creates the schema and the admin user), then the others:`,
    ...plan.nodes.map((n) => `  arca start --home ${n.home}`),
    `The admin password is ARCA_ADMIN_PASSWORD at ${first.id}'s first start, else the file`,
    `  ${join(first.home, 'etc', 'security', 'initial-admin-password')}`,
    'Start the balancer (nginx or haproxy):',
    `  nginx -p ${plan.nginxDir} -c nginx.conf`,
    `  haproxy -f ${join(plan.haproxyDir, 'haproxy.cfg')}`,
    'Check the cluster through it, setting the URL base to the balancer:',
    `  arca ha verify --url ${plan.lbUrl} --user admin --password-file ${join(first.home, 'etc', 'security', 'initial-admin-password')} --set-url-base`,
    '',
  ].join('\n');
}

export async function runHaInit(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      db: { type: 'string' },
      'db-user': { type: 'string' },
      'db-password': { type: 'string' },
      dir: { type: 'string' },
      nodes: { type: 'string' },
      host: { type: 'string' },
      'base-port': { type: 'string' },
      workers: { type: 'string' },
      'shared-dir': { type: 'string' },
      'lb-listen': { type: 'string' },
      'legacy-primary': { type: 'boolean' },
    },
  });
  try {
    const plan = planCluster(values);
    const { fingerprint } = writeCluster(plan);
    process.stdout.write(summary(plan, fingerprint));
    return 0;
  } catch (err) {
    if (err instanceof HaInitError || (err as Error).name === 'ConfigError' || (err as Error).name === 'LbConfigError') {
      process.stderr.write(`arca ha init: ${(err as Error).message}\n\n${HA_INIT_USAGE}`);
      return 2;
    }
    throw err;
  }
}
