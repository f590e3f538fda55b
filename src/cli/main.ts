import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { homeLayout, ensureHome } from '../config/home.js';
import { loadMasterKey } from '../config/master-key.js';
import { SystemConfig } from '../config/system-yaml.js';
import { encryptSecret } from '../core/secrets.js';
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
      await start({ home, port, host, workers, env });
      return;
    }
    case 'encrypt': {
      const { values, positionals } = parseArgs({ args: rest, options: { home: { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) {
        process.stderr.write('Usage: arca encrypt <secret> [--home DIR]\n');
        return 2;
      }
      const layout = homeLayout(homeOf(values, env));
      ensureHome(layout);
      const { key } = loadMasterKey(layout.masterKey, true);
      process.stdout.write(encryptSecret(key, positionals[0]) + '\n');
      return 0;
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
