import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { homeLayout } from '../config/home-layout.js';
import { SystemConfig } from '../config/system-yaml.js';
import { readVersionInfo } from '../node/version.js';
import { start } from '../node/supervisor.js';

const USAGE = `Usage: arca <command> [options]

Commands:
  start                 Start a node
      --home DIR        Home directory (env ARCA_HOME, default ./arca-home)
      --port N          HTTP port (env ARCA_PORT, system.yaml artifactory.port, default 8081)
      --host ADDR       Bind address (env ARCA_HOST, default 0.0.0.0)
      --workers N       Worker processes sharing the port (default: one per CPU)
  encrypt <secret>      Print <secret> encrypted with the home's master key (for db.properties)
      --home DIR
  lb nginx|haproxy      Print a load-balancer configuration for the cluster's nodes
      --home DIR | --nodes URL,URL…   (arca lb --help for the options)
  ha init               Write the node homes of a new cluster and its balancer configurations
      --db URL --dir DIR [--nodes 3] [--base-port 8081] [--host 127.0.0.1]
  ha verify             Check a running cluster through its balancer
      --url LB_URL [--user admin] [--password PW] [--set-url-base]
  binarystore show      Print the binary store chain with every effective parameter
      [--home DIR] [--file FILE] [--json]
  binarystore verify    Verify (scrub) the binary store of a running node (--help for options)
  license keygen        Write an Ed25519 key pair for a cluster license pool (--out DIR)
  license issue         Print license keys signed with the private key (arca license --help)
  version               Print the version
  help                  Print this help
`;

function homeOf(values: { home?: string }, env: NodeJS.ProcessEnv): string {
  return values.home ?? env.ARCA_HOME ?? './arca-home';
}

function intOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${raw}'`);
  return n;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const { values } = parseArgs({
        args: rest,
        options: { home: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, workers: { type: 'string' } },
      });
      const home = homeOf(values, env);
      const system = SystemConfig.load(homeLayout(home).systemYaml, env);
      const port = intOption('port', values.port) ?? intOption('port', env.ARCA_PORT) ?? system.number('artifactory.port');
      const host = values.host ?? env.ARCA_HOST ?? String(system.get('arca.host'));
      const configured = intOption('workers', values.workers) ?? intOption('workers', env.ARCA_WORKERS) ?? system.number('arca.workers');
      const workers = configured > 0 ? configured : availableParallelism();
      await start({ home, port, host, workers, workerHeapMb: system.number('arca.workerHeapMb'), env });
      return;
    }
    case 'encrypt': {
      const { values, positionals } = parseArgs({ args: rest, options: { home: { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) {
        process.stderr.write('Usage: arca encrypt <secret> [--home DIR]\n');
        return 2;
      }
      // Loaded here: `arca start` (whose supervisor runs this module) needs none of them.
      const [{ ensureHome }, { loadMasterKey }, { encryptSecret }] = await Promise.all([import('../config/home.js'), import('../config/master-key.js'), import('../core/secrets.js')]);
      const layout = homeLayout(homeOf(values, env));
      ensureHome(layout);
      const { key } = loadMasterKey(layout.masterKey, true);
      process.stdout.write(encryptSecret(key, positionals[0]) + '\n');
      return 0;
    }
    case 'lb': {
      // Loaded on demand: `arca start` and the other commands stay quick to load.
      const { runLb, LB_USAGE } = await import('./lb.js');
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === 'help') {
        process.stdout.write(LB_USAGE);
        return rest[0] === undefined ? 2 : 0;
      }
      return runLb(rest, env);
    }
    case 'ha': {
      const [sub, ...subArgs] = rest;
      if (sub === 'init') {
        const { runHaInit, HA_INIT_USAGE } = await import('./ha-init.js');
        if (subArgs.includes('--help')) {
          process.stdout.write(HA_INIT_USAGE);
          return 0;
        }
        return runHaInit(subArgs);
      }
      if (sub === 'verify') {
        const { runHaVerify, HA_VERIFY_USAGE } = await import('./ha-verify.js');
        if (subArgs.includes('--help')) {
          process.stdout.write(HA_VERIFY_USAGE);
          return 0;
        }
        return runHaVerify(subArgs, env);
      }
      process.stderr.write('Usage: arca ha init|verify [options] (arca ha init --help, arca ha verify --help)\n');
      return 2;
    }
    case 'license': {
      const { runLicense, LICENSE_USAGE } = await import('./license.js');
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === 'help') {
        process.stdout.write(LICENSE_USAGE);
        return rest[0] === undefined ? 2 : 0;
      }
      return runLicense(rest);
    }
    case 'binarystore': {
      const { runBinarystore } = await import('./binarystore.js');
      return runBinarystore(rest, env);
    }
    case 'version':
    case '--version': {
      const v = readVersionInfo();
      process.stdout.write(`arca ${v.version} (${v.revision})\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`arca: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}
