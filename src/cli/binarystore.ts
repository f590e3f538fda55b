import { parseArgs } from 'node:util';
import { homeLayout } from '../config/home.js';
import { ConfigError } from '../core/errors.js';
import { resolveNodeIdentity } from '../config/node-identity.js';
import { SystemConfig } from '../config/system-yaml.js';
import { readBinarystoreXml } from '../config/binarystore.js';
import { providerRegistry } from '../binstore/chain/provider-registry.js';
import { resolveChain } from '../binstore/chain/resolve.js';
import { formatChain, showChain } from '../binstore/chain/show.js';

export const BINARYSTORE_USAGE = `Usage: arca binarystore show|verify [options]

  show                  Print the binary store chain of binarystore.xml as the node builds it:
                        every provider, indented by nesting, with every effective parameter and
                        whether it is set in the file, by the template or a default
      --home DIR        the node's home (env ARCA_HOME, default ./arca-home): reads
                        etc/binarystore.xml, and the data dir from etc/ha-node.properties
                        (artifactory.ha.data.dir) or system.yaml
      --file FILE       another binarystore.xml to check (the data dir still comes from the home)
      --json            print the chain as JSON
  verify                Run the scrub task on a running node (arca binarystore verify --help)
`;

type Out = (s: string) => void;

/** `arca binarystore show`: 0 when the chain resolves, 1 with the error when it does not. */
export async function binarystoreShow(args: string[], env: NodeJS.ProcessEnv, out: Out = (s) => process.stdout.write(s), err: Out = (s) => process.stderr.write(s)): Promise<number> {
  const { values } = parseArgs({ args, options: { home: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    out(BINARYSTORE_USAGE);
    return 0;
  }
  const layout = homeLayout(values.home ?? env.ARCA_HOME ?? './arca-home');
  try {
    const identity = resolveNodeIdentity(layout, SystemConfig.load(layout.systemYaml, env));
    const chain = resolveChain(readBinarystoreXml(values.file ?? layout.binarystoreXml), { dataDir: identity.haDataDir ?? layout.data });
    const shown = showChain(chain, providerRegistry());
    out(values.json ? JSON.stringify(shown, null, 2) + '\n' : formatChain(shown));
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`arca binarystore show: ${e.message}\n`);
    return 1;
  }
}

export async function runBinarystore(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'show') return binarystoreShow(rest, env);
  if (sub === 'verify') {
    const { binarystoreVerify } = await import('./binarystore-verify.js');
    return binarystoreVerify(rest, env);
  }
  const help = sub === '--help' || sub === 'help';
  (help ? process.stdout : process.stderr).write(BINARYSTORE_USAGE);
  return help ? 0 : 2;
}
