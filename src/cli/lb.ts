import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { homeLayout } from '../config/home.js';
import { loadMasterKey } from '../config/master-key.js';
import { SystemConfig } from '../config/system-yaml.js';
import { haproxyConfig, LbConfigError, nginxConfig, nginxSnippet, type LbNode } from './lb-config.js';

export const LB_USAGE = `Usage: arca lb nginx|haproxy (--home DIR | --nodes URL,URL…) [options]

Prints a load-balancer configuration for the cluster's nodes.
  --home DIR        a node's home: the nodes are read from the database it names
                    (etc/db.properties or system.yaml shared.database.*)
  --nodes URLS      comma-separated context URLs instead (http://10.0.0.5:8081/artifactory,…)
  --listen ADDR     [address:]port the balancer listens on (default 80)
  --server-name N   nginx server_name (default _)
  --timeout SECS    read/send timeouts for large transfers (default 900)
  --snippet         nginx: print only the upstream and server blocks (for conf.d/)
  --output FILE     write to FILE instead of standard output
`;

/** Nodes from the registry table of the database the home names; those without a context URL are skipped. */
export async function registeredNodes(home: string, env: NodeJS.ProcessEnv): Promise<{ nodes: LbNode[]; skipped: string[]; source: string }> {
  const layout = homeLayout(home);
  if (!existsSync(layout.etc)) throw new LbConfigError(`${layout.etc} does not exist: --home must name a node's home directory`);
  const system = SystemConfig.load(layout.systemYaml, env);
  // The key only decrypts an encrypted database password; without the file a plain one still works.
  const masterKey = existsSync(layout.masterKey) ? loadMasterKey(layout.masterKey, false).key : Buffer.alloc(16);
  const { resolveDatabaseConfig } = await import('../config/db-config.js');
  const dbConfig = resolveDatabaseConfig({ home: layout.home, etcDir: layout.etc, system, masterKey });
  const { openDatabase } = await import('../db/database.js');
  const database = await openDatabase(dbConfig);
  try {
    let rows: { server_id: string; context_url: string | null; server_state: string }[];
    try {
      rows = await database.db.selectFrom('cluster_nodes').select(['server_id', 'context_url', 'server_state']).orderBy('server_id').execute();
    } catch (err) {
      throw new LbConfigError(`Cannot read the node registry of ${dbConfig.displayUrl} (has a node started on it yet?): ${(err as Error).message}`);
    }
    const nodes: LbNode[] = [];
    const skipped: string[] = [];
    for (const r of rows) {
      if (r.context_url) nodes.push({ id: r.server_id, contextUrl: r.context_url, state: r.server_state });
      else skipped.push(r.server_id);
    }
    return { nodes, skipped, source: `the node registry in ${dbConfig.displayUrl}` };
  } finally {
    await database.close().catch(() => undefined);
  }
}

/** `--nodes a,b`: ids are node1, node2… in the order given. */
export function nodesFromList(list: string): LbNode[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((url, i) => ({ id: `node${i + 1}`, contextUrl: url.replace(/\/+$/, '') }));
}

export async function runLb(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [kind, ...rest] = args;
  if (kind !== 'nginx' && kind !== 'haproxy') {
    process.stderr.write(LB_USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      home: { type: 'string' },
      nodes: { type: 'string' },
      listen: { type: 'string' },
      'server-name': { type: 'string' },
      timeout: { type: 'string' },
      snippet: { type: 'boolean' },
      output: { type: 'string' },
    },
  });
  if ((values.home === undefined) === (values.nodes === undefined)) {
    process.stderr.write(`arca lb: give exactly one of --home and --nodes\n\n${LB_USAGE}`);
    return 2;
  }
  const timeoutSecs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSecs !== undefined && (!Number.isInteger(timeoutSecs) || timeoutSecs < 1)) {
    process.stderr.write(`arca lb: --timeout must be a positive number of seconds\n`);
    return 2;
  }
  try {
    let nodes: LbNode[];
    let source: string;
    if (values.nodes !== undefined) {
      nodes = nodesFromList(values.nodes);
      source = '--nodes';
    } else {
      const found = await registeredNodes(values.home!, env);
      for (const id of found.skipped) process.stderr.write(`arca lb: node '${id}' has no context URL (not an HA node); left out\n`);
      nodes = found.nodes;
      source = found.source;
    }
    const opts = { nodes, source, listen: values.listen, serverName: values['server-name'], timeoutSecs };
    const text = kind === 'haproxy' ? haproxyConfig(opts) : values.snippet ? nginxSnippet(opts) : nginxConfig(opts);
    if (values.output) {
      writeFileSync(values.output, text);
      process.stderr.write(`arca lb: wrote ${values.output} (${nodes.length} node${nodes.length === 1 ? '' : 's'})\n`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  } catch (err) {
    if (err instanceof LbConfigError) {
      process.stderr.write(`arca lb: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
