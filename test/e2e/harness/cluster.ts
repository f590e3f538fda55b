import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxConfig } from '../../../src/cli/lb-config.js';
import { NGINX, nginxTest, startNginx, type Balancer } from '../../helpers/balancers.js';
import { ADMIN_PASSWORD } from '../../helpers/credentials.js';
import { ARCA_BIN } from '../../helpers/node-process.js';
import { freePort } from '../../helpers/ports.js';

export { NGINX };

export interface ClusterNode {
  id: string;
  port: number;
  home: string;
  url: string;
  child?: ChildProcess;
  output: string;
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * N Arca nodes (one process each) sharing one database, one master key and one binary
 * directory (the seed's "filesystem storage with NFS" option), with nginx in front.
 */
export class TestCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'arca-e2e-cluster-'));
  readonly nodes: ClusterNode[] = [];
  lbPort = 0;
  private nginx: Balancer | undefined;

  constructor(
    private readonly db: { type: 'postgresql' | 'mysql'; url: string },
    private readonly size = 3,
    /** Extra environment for every node (e.g. short task leases). */
    private readonly nodeEnv: Record<string, string> = {},
    /**
     * `binarystoreXml`: written to every node's etc/binarystore.xml (the primary's copy is the
     * one mirrored); `localData`: each node keeps its own data dir (cluster-file-system and the
     * cluster-* cloud templates) instead of the shared `artifactory.ha.data.dir`.
     */
    private readonly storage: { binarystoreXml?: string; localData?: boolean } = {},
  ) {}

  get lbUrl(): string {
    return `http://127.0.0.1:${this.lbPort}`;
  }

  async create(): Promise<void> {
    const shared = join(this.dir, 'shared');
    mkdirSync(join(shared, 'data'), { recursive: true });
    mkdirSync(join(shared, 'backup'), { recursive: true });
    const key = randomBytes(16).toString('hex');
    for (let i = 1; i <= this.size; i++) {
      const id = `art${i}`;
      const port = await freePort();
      const home = join(this.dir, id);
      mkdirSync(join(home, 'etc', 'security'), { recursive: true });
      writeFileSync(join(home, 'etc', 'db.properties'), `type=${this.db.type}\nurl=${this.db.url}\npool.max.active=10\n`);
      writeFileSync(join(home, 'etc', 'security', 'master.key'), key + '\n', { mode: 0o600 });
      if (this.storage.binarystoreXml) writeFileSync(join(home, 'etc', 'binarystore.xml'), this.storage.binarystoreXml);
      const dataDir = this.storage.localData ? '' : `artifactory.ha.data.dir=${join(shared, 'data')}\n`;
      writeFileSync(
        join(home, 'etc', 'ha-node.properties'),
        `node.id=${id}\ncontext.url=http://127.0.0.1:${port}/artifactory\nmembership.port=0\nprimary=${i === 1}\n` +
          `${dataDir}artifactory.ha.backup.dir=${join(shared, 'backup')}\n`,
        { mode: 0o644 },
      );
      this.nodes.push({ id, port, home, url: `http://127.0.0.1:${port}`, output: '' });
    }
  }

  async startNode(node: ClusterNode): Promise<void> {
    node.output = '';
    // ARCA_TEST_NODE_ARGS: extra node options for every node (say `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a bench).
    const nodeArgs = (process.env.ARCA_TEST_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, ARCA_BIN, 'start', '--home', node.home, '--port', String(node.port), '--host', '127.0.0.1', '--workers', '1'], {
      env: { ...process.env, ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_LOGLEVEL: 'warn', ...this.nodeEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (node.output += d));
    child.stderr!.on('data', (d) => (node.output += d));
    node.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${node.id} exited with ${child.exitCode}:\n${node.output}`);
        return (await fetch(`${node.url}/artifactory/api/system/ping`)).status === 200;
      },
      30_000,
      `${node.id} to answer ping`,
    );
  }

  /** Starts the nodes one at a time, as the seed advises. */
  async startAll(): Promise<void> {
    for (const n of this.nodes) await this.startNode(n);
  }

  kill(node: ClusterNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = node.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  get nginxPrefix(): string {
    return join(this.dir, 'nginx');
  }

  /**
   * nginx in front of the nodes (all by default), with the configuration `arca lb nginx`
   * generates. With `upstreamLog`, access.log records `$msec $status $upstream_addr` so a
   * benchmark can tell when the balancer stopped sending requests to a node.
   */
  async startNginx(opts: { nodes?: ClusterNode[]; upstreamLog?: boolean } = {}): Promise<void> {
    if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
    this.lbPort ||= await freePort();
    const prefix = this.nginxPrefix;
    mkdirSync(prefix, { recursive: true });
    const file = join(prefix, 'nginx.conf');
    let conf = nginxConfig({
      nodes: (opts.nodes ?? this.nodes).map((n) => ({ id: n.id, contextUrl: `${n.url}/artifactory` })),
      listen: `127.0.0.1:${this.lbPort}`,
      source: 'e2e harness',
    });
    if (opts.upstreamLog) {
      conf = conf.replace('access_log access.log;', "log_format arca_upstream '$msec $status $upstream_addr';\n    access_log access.log arca_upstream;");
    }
    // Workers run as root here so they can use the temp directories the master created.
    writeFileSync(file, (process.getuid?.() === 0 ? 'user root;\n' : '') + conf);
    const check = nginxTest(prefix, file);
    if (!check.ok) throw new Error(`nginx -t failed: ${check.output}`);
    this.nginx = await startNginx(prefix, file, this.lbPort);
    await waitFor(async () => (await fetch(`${this.lbUrl}/artifactory/api/system/ping`)).status === 200, 15_000, 'nginx');
  }

  async stopNginx(): Promise<void> {
    await this.nginx?.stop();
    this.nginx = undefined;
  }

  async destroy(): Promise<void> {
    // Nodes under extra options (a profile) stop gracefully, so they can write what they collected.
    if (process.env.ARCA_TEST_NODE_ARGS) await Promise.all(this.nodes.map((n) => Promise.race([this.kill(n, 'SIGTERM'), new Promise((r) => setTimeout(r, 20_000))])));
    for (const n of this.nodes) await this.kill(n);
    await this.nginx?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
