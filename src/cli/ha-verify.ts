import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const HA_VERIFY_USAGE = `Usage: arca ha verify --url LB_URL [options]

Checks a running cluster through its load balancer, as the seed's "Testing Your HA
Configuration" does by hand, and prints PASS or FAIL per check (exit status 1 on a FAIL).
  --url URL             the balancer, e.g. http://lb.example.com (or …/artifactory)
  --user NAME           an admin user (default admin)
  --password PW         its password (or --password-file FILE, or env ARCA_VERIFY_PASSWORD)
  --set-url-base        first set the custom URL base to the balancer's URL
  --repo KEY            local repository for the write/read check (default: a temporary
                        generic repository, removed afterwards)
  --requests N          requests through the balancer to see every node id (default 10 x nodes)
  --timeout SECS        per-request timeout (default 10)
`;

export type CheckStatus = 'PASS' | 'FAIL' | 'WARN';
export interface Check {
  status: CheckStatus;
  name: string;
  detail: string;
}

interface StatusNode {
  id: string;
  state: string;
  url: string | null;
  version: string;
  revision?: string;
}

interface Options {
  root: string;
  auth: string;
  setUrlBase: boolean;
  repo?: string;
  requests?: number;
  timeoutMs: number;
}

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

const TEMP_REPO = 'arca-ha-verify';

/** `http://lb/` or `http://lb/artifactory/` → `http://lb`. */
export function balancerRoot(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/artifactory$/, '')}`;
}

export function urlBaseFromXml(xml: string): string | undefined {
  const m = /<urlBase>([^<]*)<\/urlBase>/.exec(xml) ?? (/<urlBase\s*\/>/.test(xml) ? ['', ''] : null);
  if (!m) return undefined;
  return m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Verifier {
  readonly checks: Check[] = [];
  constructor(
    private readonly o: Options,
    private readonly report: (c: Check) => void,
  ) {}

  private add(status: CheckStatus, name: string, detail: string): void {
    const c = { status, name, detail };
    this.checks.push(c);
    this.report(c);
  }

  private async call(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string>; anonymous?: boolean } = {}): Promise<Reply> {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      body: init.body,
      headers: { ...(init.anonymous ? {} : { authorization: this.o.auth }), ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  /** Like call, but a network failure becomes status 0 with the reason in the body. */
  private async tryCall(url: string, init: Parameters<Verifier['call']>[1] = {}): Promise<Reply> {
    try {
      return await this.call(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { status: 0, headers: new Headers(), body: Buffer.from(cause?.code ?? cause?.message ?? (err as Error).message) };
    }
  }

  async run(): Promise<void> {
    try {
      await this.steps();
    } catch (err) {
      this.add('FAIL', 'verification', `stopped by an unexpected error: ${(err as Error).stack ?? String(err)}`);
    }
  }

  private async steps(): Promise<void> {
    const lb = `${this.o.root}/artifactory`;
    const ping = await this.tryCall(`${lb}/api/system/ping`, { anonymous: true });
    if (ping.status !== 200) {
      this.add('FAIL', 'balancer answers', `GET ${lb}/api/system/ping: ${ping.status || ping.body.toString()}`);
      return;
    }
    this.add('PASS', 'balancer answers', `GET ${lb}/api/system/ping: 200`);

    const statusRes = await this.tryCall(`${lb}/api/system/status`);
    if (statusRes.status !== 200) {
      const why = statusRes.status === 401 || statusRes.status === 403 ? 'the credentials are not an admin’s' : String(statusRes.status || statusRes.body);
      this.add('FAIL', 'node list', `GET ${lb}/api/system/status: ${why}`);
      return;
    }
    const nodes = (JSON.parse(statusRes.body.toString()) as { nodes?: StatusNode[] }).nodes ?? [];
    this.checkStates(nodes);
    this.checkVersions(nodes);
    const running = nodes.filter((n) => n.state === 'RUNNING' && n.url);
    const reachable = await this.checkDirect(running);
    await this.checkMasterKey(reachable);
    await this.checkUrlBase(lb);
    await this.checkNodeIds(lb, running);
    await this.checkWriteRead(lb, reachable);
  }

  private checkStates(nodes: StatusNode[]): void {
    const list = nodes.map((n) => `${n.id} ${n.state}`).join(', ');
    if (nodes.length === 0) this.add('FAIL', 'every node RUNNING', 'no node is registered');
    else if (nodes.every((n) => n.state === 'RUNNING')) this.add('PASS', 'every node RUNNING', `${nodes.length} node${nodes.length === 1 ? '' : 's'}: ${list}`);
    else this.add('FAIL', 'every node RUNNING', list);
    const noUrl = nodes.filter((n) => !n.url).map((n) => n.id);
    if (noUrl.length > 0) this.add('FAIL', 'context URLs', `no context.url registered for ${noUrl.join(', ')} (not configured as HA nodes)`);
  }

  private checkVersions(nodes: StatusNode[]): void {
    const versions = new Map<string, string[]>();
    for (const n of nodes) {
      const v = `${n.version}${n.revision ? ` (${n.revision})` : ''}`;
      versions.set(v, [...(versions.get(v) ?? []), n.id]);
    }
    if (versions.size <= 1) this.add('PASS', 'one version', [...versions.keys()][0] ?? 'no nodes');
    else this.add('FAIL', 'one version', [...versions].map(([v, ids]) => `${v}: ${ids.join(', ')}`).join('; '));
  }

  /** Each RUNNING node answers at its own context URL with its own id. */
  private async checkDirect(running: StatusNode[]): Promise<StatusNode[]> {
    const ok: StatusNode[] = [];
    const bad: string[] = [];
    for (const n of running) {
      const r = await this.tryCall(`${n.url}/api/system/ping`, { anonymous: true });
      const id = r.headers.get('x-artifactory-node-id');
      if (r.status !== 200) bad.push(`${n.id} at ${n.url}: ${r.status || r.body.toString()}`);
      else if (id !== n.id) bad.push(`${n.url} answers as '${id ?? '(no X-Artifactory-Node-Id)'}', not '${n.id}'`);
      else ok.push(n);
    }
    if (bad.length === 0) this.add('PASS', 'nodes answer at their context URLs', ok.map((n) => `${n.id} ${n.url}`).join(', '));
    else this.add('FAIL', 'nodes answer at their context URLs', bad.join('; '));
    return ok;
  }

  private async checkMasterKey(nodes: StatusNode[]): Promise<void> {
    const prints = new Map<string, string[]>();
    const missing: string[] = [];
    for (const n of nodes) {
      const r = await this.tryCall(`${n.url}/api/system/status`);
      const fp = r.status === 200 ? (JSON.parse(r.body.toString()) as { masterKeyFingerprint?: string }).masterKeyFingerprint : undefined;
      if (!fp) missing.push(n.id);
      else prints.set(fp, [...(prints.get(fp) ?? []), n.id]);
    }
    if (nodes.length === 0) this.add('FAIL', 'one master key', 'no node could be asked');
    else if (missing.length > 0) this.add('WARN', 'one master key', `no master-key fingerprint reported by ${missing.join(', ')}`);
    else if (prints.size === 1) this.add('PASS', 'one master key', `fingerprint ${[...prints.keys()][0]} on ${nodes.map((n) => n.id).join(', ')}`);
    else this.add('FAIL', 'one master key', [...prints].map(([fp, ids]) => `${fp}: ${ids.join(', ')}`).join('; '));
  }

  private async checkUrlBase(lb: string): Promise<void> {
    if (this.o.setUrlBase) {
      const r = await this.tryCall(`${lb}/api/system/configuration/baseUrl`, { method: 'PUT', body: lb, headers: { 'content-type': 'text/plain' } });
      if (r.status !== 200) {
        this.add('FAIL', 'URL base is the balancer', `setting it failed: ${r.status || ''} ${r.body.toString().slice(0, 200)}`);
        return;
      }
    }
    const r = await this.tryCall(`${lb}/api/system/configuration`);
    const base = r.status === 200 ? urlBaseFromXml(r.body.toString()) : undefined;
    if (base === undefined) this.add('FAIL', 'URL base is the balancer', `GET ${lb}/api/system/configuration: ${r.status || r.body.toString()}`);
    else if (base.replace(/\/+$/, '') === lb) this.add('PASS', 'URL base is the balancer', base);
    else this.add('FAIL', 'URL base is the balancer', `urlBase is '${base}', expected '${lb}' (run again with --set-url-base)`);
  }

  /** Repeated requests through the balancer must reach every RUNNING node (X-Artifactory-Node-Id). */
  private async checkNodeIds(lb: string, running: StatusNode[]): Promise<void> {
    const expected = new Set(running.map((n) => n.id));
    const seen = new Map<string, number>();
    const total = this.o.requests ?? Math.max(10, 10 * expected.size);
    let failed = 0;
    for (let i = 0; i < total; i++) {
      const r = await this.tryCall(`${lb}/api/system/ping`, { anonymous: true, headers: { connection: 'close' } });
      if (r.status !== 200) failed++;
      const id = r.headers.get('x-artifactory-node-id') ?? '(none)';
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if ([...expected].every((e) => seen.has(e)) && i >= expected.size * 2) break;
    }
    const counts = [...seen].map(([id, c]) => `${id} ${c}`).join(', ');
    const missing = [...expected].filter((e) => !seen.has(e));
    if (missing.length === 0 && failed === 0) this.add('PASS', 'node ids in responses through the balancer', counts);
    else this.add('FAIL', 'node ids in responses through the balancer', `${missing.length ? `never answered: ${missing.join(', ')}; ` : ''}${failed ? `${failed} failed requests; ` : ''}seen: ${counts}`);
  }

  /** Deploys a file through the balancer and reads it back from every node directly. */
  private async checkWriteRead(lb: string, nodes: StatusNode[]): Promise<void> {
    const name = 'write through one node, read through every node';
    if (nodes.length === 0) {
      this.add('FAIL', name, 'no node answers at its context URL');
      return;
    }
    let repo = this.o.repo;
    let created = false;
    if (!repo) {
      repo = TEMP_REPO;
      const exists = await this.tryCall(`${lb}/api/repositories/${repo}`);
      if (exists.status === 400 || exists.status === 404) {
        const r = await this.tryCall(`${lb}/api/repositories/${repo}`, {
          method: 'PUT',
          body: JSON.stringify({ rclass: 'local', packageType: 'generic', description: 'temporary, for arca ha verify' }),
          headers: { 'content-type': 'application/json' },
        });
        if (r.status !== 200 && r.status !== 201) {
          this.add('FAIL', name, `creating repository ${repo}: ${r.status || ''} ${r.body.toString().slice(0, 200)}`);
          return;
        }
        created = true;
      }
    }
    try {
      // Configuration reaches every node through the database within seconds: wait for it.
      for (const n of nodes) {
        const deadline = Date.now() + 15_000;
        while ((await this.tryCall(`${n.url}/api/repositories/${repo}`)).status !== 200) {
          if (Date.now() > deadline) {
            this.add('FAIL', name, `repository ${repo} is not visible on ${n.id} after 15 s`);
            return;
          }
          await sleep(200);
        }
      }
      const content = randomBytes(4096);
      const digest = sha256(content);
      const path = `${repo}/ha-verify/${Date.now()}-${randomBytes(4).toString('hex')}.bin`;
      const put = await this.tryCall(`${lb}/${path}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream', 'x-checksum-sha256': digest } });
      if (put.status !== 201) {
        this.add('FAIL', name, `PUT ${lb}/${path}: ${put.status || ''} ${put.body.toString().slice(0, 200)}`);
        return;
      }
      const writer = put.headers.get('x-artifactory-node-id') ?? '(unknown node)';
      const bad: string[] = [];
      for (const n of nodes) {
        let r = await this.tryCall(`${n.url}/${path}`);
        for (let i = 0; i < 10 && r.status === 404; i++) {
          await sleep(200);
          r = await this.tryCall(`${n.url}/${path}`);
        }
        if (r.status !== 200) bad.push(`${n.id}: ${r.status || r.body.toString()}`);
        else if (sha256(r.body) !== digest) bad.push(`${n.id}: content differs (sha256 ${sha256(r.body)})`);
      }
      await this.tryCall(`${lb}/${path}`, { method: 'DELETE' });
      if (bad.length === 0) this.add('PASS', name, `written through ${writer}, read back with sha256 ${digest.slice(0, 12)}… from ${nodes.map((n) => n.id).join(', ')}`);
      else this.add('FAIL', name, `written through ${writer}; ${bad.join('; ')}`);
    } finally {
      if (created) await this.tryCall(`${lb}/api/repositories/${repo}`, { method: 'DELETE' });
    }
  }
}

export const formatCheck = (c: Check) => `  ${c.status.padEnd(4)}  ${c.name}: ${c.detail}\n`;

export function formatTotals(checks: Check[]): string {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  return `${count('PASS')} passed, ${count('FAIL')} failed${count('WARN') ? `, ${count('WARN')} warnings` : ''}\n`;
}

/** Runs every check; `report` sees each one as it completes. */
export async function verifyCluster(o: Options, report: (c: Check) => void = () => undefined): Promise<Check[]> {
  const v = new Verifier(o, report);
  await v.run();
  return v.checks;
}

export async function runHaVerify(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'password-file': { type: 'string' },
      'set-url-base': { type: 'boolean' },
      repo: { type: 'string' },
      requests: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  if (!values.url) {
    process.stderr.write(`arca ha verify: --url is required\n\n${HA_VERIFY_USAGE}`);
    return 2;
  }
  let root: string;
  try {
    root = balancerRoot(values.url);
  } catch {
    process.stderr.write(`arca ha verify: --url '${values.url}' is not a URL\n`);
    return 2;
  }
  const password = values.password ?? (values['password-file'] ? readFileSync(values['password-file'], 'utf8').trim() : env.ARCA_VERIFY_PASSWORD);
  if (password === undefined) {
    process.stderr.write('arca ha verify: give the admin password with --password, --password-file or ARCA_VERIFY_PASSWORD\n');
    return 2;
  }
  const user = values.user ?? 'admin';
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  process.stdout.write(`Arca HA verification through ${root}\n`);
  const checks = await verifyCluster({
    root,
    auth: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    setUrlBase: values['set-url-base'] === true,
    repo: values.repo,
    requests: num(values.requests, 'requests'),
    timeoutMs: (num(values.timeout, 'timeout') ?? 10) * 1000,
  }, (c) => process.stdout.write(formatCheck(c)));
  process.stdout.write(formatTotals(checks));
  return checks.some((c) => c.status === 'FAIL') ? 1 : 0;
}
