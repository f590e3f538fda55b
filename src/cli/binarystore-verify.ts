import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const BINARYSTORE_VERIFY_USAGE = `Usage: arca binarystore verify --url URL [options]

Runs the cluster's scrub task now on a running node (or through the balancer) and waits for
it: every stored binary is hashed (every copy on a redundant store), corrupt or missing copies
are repaired from good ones, and binaries that no copy can restore are listed. Exit status 0
when every binary is intact, 1 when some cannot be restored, 2 on a usage or connection error.
  --url URL             the node or balancer, e.g. http://127.0.0.1:8081 (or …/artifactory)
  --user NAME           an admin user (default admin)
  --password PW         its password (or --password-file FILE, or env ARCA_VERIFY_PASSWORD)
  --wait SECS           how long to wait for the run (default 3600)
  --json                print the run as JSON
`;

interface ScrubRun {
  id: string;
  status: string;
  nodeId: string | null;
  counts: Record<string, number> | null;
  result: { problems?: string[] } | null;
  error: string | null;
}

function artifactoryRoot(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/artifactory') ? trimmed : `${trimmed}/artifactory`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The human summary of a scrub run. */
export function describeScrub(run: ScrubRun): string {
  const c = run.counts ?? {};
  const n = (k: string) => c[k] ?? 0;
  const lines = [
    `scrub run ${run.id} on node ${run.nodeId ?? '?'}: ${run.status}`,
    `  binaries in the database: ${n('binaries')}`,
    `  copies hashed:            ${n('checked')} (${formatBytes(n('bytesChecked'))})`,
    `  corrupt copies:           ${n('corrupt')}`,
    `  missing:                  ${n('missing')}`,
    `  repaired:                 ${n('repaired')} (${formatBytes(n('bytesRepaired'))})`,
    `  unrecoverable:            ${n('unrecoverable')}`,
  ];
  for (const sha1 of run.result?.problems ?? []) lines.push(`    ${sha1}`);
  if (run.error) lines.push(`  error: ${run.error}`);
  lines.push(run.status === 'SUCCEEDED' && n('unrecoverable') === 0 ? 'OK: every binary is intact' : 'FAIL');
  return lines.join('\n');
}

export async function binarystoreVerify(args: string[], env: NodeJS.ProcessEnv, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      user: { type: 'string', default: 'admin' },
      password: { type: 'string' },
      'password-file': { type: 'string' },
      wait: { type: 'string', default: '3600' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    out(BINARYSTORE_VERIFY_USAGE);
    return 0;
  }
  const password = values.password ?? (values['password-file'] ? readFileSync(values['password-file'], 'utf8').trim() : env.ARCA_VERIFY_PASSWORD);
  if (!values.url || password === undefined) {
    out(BINARYSTORE_VERIFY_USAGE);
    return 2;
  }
  const wait = Number(values.wait);
  if (!Number.isInteger(wait) || wait < 0) throw new Error(`--wait must be a whole number of seconds, got '${values.wait}'`);
  const auth = `Basic ${Buffer.from(`${values.user}:${password}`).toString('base64')}`;
  const root = artifactoryRoot(values.url);
  let res: Response;
  try {
    res = await fetch(`${root}/api/system/tasks/scrub/run?wait=${wait}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout((wait + 30) * 1000),
    });
  } catch (err) {
    out(`Cannot reach ${root}: ${(err as Error).message}\n`);
    return 2;
  }
  const text = await res.text();
  if (!res.ok) {
    out(`The node answered ${res.status}: ${text}\n`);
    return 2;
  }
  const run = JSON.parse(text) as ScrubRun;
  out(values.json ? `${JSON.stringify(run, null, 2)}\n` : `${describeScrub(run)}\n`);
  if (run.status !== 'SUCCEEDED') return run.status === 'FAILED' ? 1 : 2;
  return (run.counts?.unrecoverable ?? 0) === 0 ? 0 : 1;
}
