import type { Transaction } from 'kysely';
import { bumpVersion, type ConfigVersions } from '../../cluster/config-versions.js';
import type { Clock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import { encryptSecret, isEncrypted } from '../../core/secrets.js';
import type { Database } from '../../db/database.js';
import { orUpdate } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';
import { TRASH_REPO_KEY, type RepoConfig } from '../../core/repo-config.js';
import type { AddressPolicy } from '../remote/address-policy.js';
import {
  asObject,
  invalidReplication,
  MAX_PUSH_TARGETS,
  validatePull,
  validatePush,
  type PullReplication,
  type PushReplication,
} from './replication-config.js';

export type Replications = { kind: 'push'; targets: PushReplication[] } | { kind: 'pull'; pull: PullReplication };

/** The stored record of a target's last run (`replications.last_run`, written by runner.ts). */
export interface RunRecord {
  /** `ok`, `failed`, or `never_run` (a record that only carries the target's site id). */
  status: string;
  lastCompleted: number | null;
  /** When the recorded run started (a run request newer than this starts another). */
  started?: number;
  message?: string;
  counts?: Record<string, number>;
  /** The target's site id, as it answered in `X-Arca-Site-Id`. */
  siteId?: string;
  /** Push: the properties watermark (start of the last good run) the recorded run used. */
  since?: number | null;
  /** Push with syncStatistics: statistics of downloads before this time were sent (the start of the last good run that sent them). */
  statisticsUpTo?: number | null;
}

export interface ReplicationRow {
  repoKey: string;
  kind: 'push' | 'pull';
  config: PushReplication | PullReplication;
  requestedAt: number | null;
  lastRun: RunRecord | null;
  created: number;
}

/** Runs a check of `replications[n]`, naming the field with its place in the list. */
function inItem<T>(n: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ArcaError) || typeof err.details?.field !== 'string') throw err;
    const field = err.details.field;
    throw new ArcaError(err.code, err.message.replace(`'${field}'`, `'replications[${n}].${field}'`), { field: `replications[${n}].${field}` });
  }
}

const BLOCK_KEYS = { push: 'replicationBlockPush', pull: 'replicationBlockPull' } as const;

/**
 * Replication configuration in the shared database (table `replications`, migration 0021).
 * Nothing is cached: every read goes to the table, so a change made on one node is what the
 * next request on any node sees. Only the replication API and the runner read it; no other
 * request path touches it. A change runs in one transaction that first bumps the
 * `repositories` config version (its row lock serialises concurrent changes on PostgreSQL
 * and MariaDB; SQLite has one writer) and checks the repository still exists.
 */
export class ReplicationConfigService {
  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    private readonly options: {
      masterKey: Buffer;
      addressPolicy: AddressPolicy;
      repo: (key: string) => Promise<RepoConfig | undefined>;
      /** Awaited after a change committed (the node's event capture reloads, so this node records at once). */
      afterChange?: () => Promise<void>;
    },
  ) {}

  /** Which kind of replication the repository takes: push for a local one, pull for a remote one. */
  async kindOf(repoKey: string): Promise<'push' | 'pull'> {
    const repo = repoKey === TRASH_REPO_KEY ? undefined : await this.options.repo(repoKey);
    if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${repoKey}' not found`);
    if (repo.rclass === 'local') return 'push';
    if (repo.rclass === 'remote') return 'pull';
    throw invalidReplication('repoKey', `'${repoKey}' is a ${repo.rclass} repository; only local (push) and remote (pull) repositories replicate`);
  }

  async rows(repoKey?: string): Promise<ReplicationRow[]> {
    let q = this.database.db.selectFrom('replications').selectAll().orderBy('repo_key').orderBy('position');
    if (repoKey !== undefined) q = q.where('repo_key', '=', repoKey);
    return (await q.execute()).map((r) => ({
      repoKey: r.repo_key,
      kind: r.kind as 'push' | 'pull',
      config: JSON.parse(r.config) as PushReplication | PullReplication,
      requestedAt: r.requested_at === null ? null : Number(r.requested_at),
      lastRun: r.last_run === null ? null : (JSON.parse(r.last_run) as RunRecord),
      created: Number(r.created),
    }));
  }

  /** The repository's replications; undefined when it has none. */
  async get(repoKey: string): Promise<Replications | undefined> {
    const rows = await this.rows(repoKey);
    if (rows.length === 0) return undefined;
    if (rows[0]!.kind === 'pull') return { kind: 'pull', pull: rows[0]!.config as PullReplication };
    return { kind: 'push', targets: rows.map((r) => r.config as PushReplication) };
  }

  /** `PUT /api/replications/{repoKey}`: replaces the repository's replication with one push target or its pull. */
  async put(repoKey: string, body: unknown): Promise<'push' | 'pull'> {
    const kind = await this.kindOf(repoKey);
    await this.change(repoKey, kind, (current) => {
      if (kind === 'pull') return [validatePull(repoKey, body)];
      const b = asObject(body);
      const same = (current as PushReplication[]).find((t) => t.url === b.url);
      return [validatePush(repoKey, body, this.options.addressPolicy, same ? { password: same.password } : undefined)];
    });
    return kind;
  }

  /**
   * `POST /api/replications/{repoKey}`: updates the given fields. A push picks its target by
   * `url`; a body whose url matches none updates the only target (changing its URL) when
   * there is just one.
   */
  async update(repoKey: string, body: unknown): Promise<void> {
    const kind = await this.kindOf(repoKey);
    await this.change(repoKey, kind, (current) => {
      if (current.length === 0) throw new ArcaError('NOT_FOUND', `No replication is configured for repository '${repoKey}'`);
      if (kind === 'pull') return [validatePull(repoKey, body, current[0] as PullReplication)];
      const targets = current as PushReplication[];
      const b = asObject(body);
      let i = targets.findIndex((t) => t.url === b.url);
      if (i < 0 && (b.url === undefined || targets.length === 1)) i = 0;
      if (i < 0 || (b.url === undefined && targets.length > 1)) throw invalidReplication('url', `must name one of the ${targets.length} targets of '${repoKey}'`);
      const next = [...targets];
      next[i] = validatePush(repoKey, body, this.options.addressPolicy, targets[i]);
      return next;
    });
  }

  /**
   * `PUT` (`replace`) or `POST /api/replications/multiple/{repoKey}`: `{cronExp,
   * enableEventReplication, replications:[…]}`; the shared cron and event switch apply to
   * every target. A POST updates the targets it names by url and adds the others.
   */
  async putMultiple(repoKey: string, body: unknown, replace: boolean): Promise<void> {
    const kind = await this.kindOf(repoKey);
    if (kind !== 'push') throw invalidReplication('repoKey', `'${repoKey}' is a remote repository; a multi-push replicates a local repository`);
    const b = asObject(body);
    const list = b.replications;
    if (!Array.isArray(list) || list.length === 0) throw invalidReplication('replications', 'must be a non-empty array of push targets');
    if (list.length > MAX_PUSH_TARGETS) throw invalidReplication('replications', `holds ${list.length} targets; at most ${MAX_PUSH_TARGETS} are allowed`);
    const shared: Record<string, unknown> = {};
    for (const k of ['cronExp', 'enableEventReplication'] as const) if (b[k] !== undefined && b[k] !== null) shared[k] = b[k];
    await this.change(repoKey, kind, (current) => {
      const next = replace ? [] : [...(current as PushReplication[])];
      const seen = new Set<string>();
      list.forEach((item, n) => {
        const t = asObject(item, `replications[${n}]`);
        if (typeof t.url === 'string' && seen.has(t.url)) throw invalidReplication(`replications[${n}].url`, `'${t.url}' is given twice`);
        if (typeof t.url === 'string') seen.add(t.url);
        const old = (current as PushReplication[]).find((c) => c.url === t.url);
        const base = replace ? (old ? { password: old.password } : undefined) : old;
        const target = inItem(n, () => validatePush(repoKey, { ...t, ...shared }, this.options.addressPolicy, base));
        const at = next.findIndex((c) => c.url === target.url);
        if (at >= 0) next[at] = target;
        else next.push(target);
      });
      if (next.length > MAX_PUSH_TARGETS) throw invalidReplication('replications', `would make ${next.length} targets; at most ${MAX_PUSH_TARGETS} are allowed`);
      // The shared fields apply to every target, also those a POST did not name.
      return next.map((t) => ({ ...t, ...(shared as Partial<PushReplication>) }));
    });
  }

  /** `DELETE /api/replications/{repoKey}[?url=]`: every target, or the one at `url`. False when there was nothing to delete. */
  async delete(repoKey: string, url?: string): Promise<boolean> {
    const kind = await this.kindOf(repoKey);
    let found = false;
    await this.change(repoKey, kind, (current) => {
      if (url === undefined || kind === 'pull') {
        found = current.length > 0;
        return [];
      }
      const next = (current as PushReplication[]).filter((t) => t.url !== url);
      found = next.length < current.length;
      return next;
    });
    return found;
  }

  /** `POST /api/replication/execute/{repoKey}`: records the request; the runner's next tick starts the run. Returns the number of targets. */
  async requestRun(repoKey: string): Promise<number> {
    await this.kindOf(repoKey);
    const res = await this.database.db.updateTable('replications').set({ requested_at: this.clock.now() }).where('repo_key', '=', repoKey).executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    if (n === 0) throw new ArcaError('NOT_FOUND', `No replication is configured for repository '${repoKey}'`);
    return n;
  }

  /** `POST /api/replication/block|unblock`: cluster-wide switches, kept in `system_config`. */
  async setBlocked(which: { push: boolean; pull: boolean }, blocked: boolean): Promise<{ push: boolean; pull: boolean }> {
    const now = this.clock.now();
    await this.versions.change('system', async (trx) => {
      for (const kind of ['push', 'pull'] as const) {
        if (!which[kind]) continue;
        const v = JSON.stringify(blocked);
        await orUpdate(trx, trx.insertInto('system_config').values({ config_key: BLOCK_KEYS[kind], config_value: v, modified: now }), 'config_key', { config_value: v, modified: now }).execute();
      }
    });
    return this.blocked();
  }

  async blocked(): Promise<{ push: boolean; pull: boolean }> {
    const rows = await this.database.db
      .selectFrom('system_config')
      .select(['config_key', 'config_value'])
      .where('config_key', 'in', [BLOCK_KEYS.push, BLOCK_KEYS.pull])
      .execute();
    const of = (k: string) => rows.some((r) => r.config_key === k && JSON.parse(r.config_value) === true);
    return { push: of(BLOCK_KEYS.push), pull: of(BLOCK_KEYS.pull) };
  }

  private sealed<T extends PushReplication | PullReplication>(c: T): T {
    const pw = (c as PushReplication).password;
    if (typeof pw === 'string' && pw !== '' && !isEncrypted(pw)) return { ...c, password: encryptSecret(this.options.masterKey, pw) };
    return c;
  }

  /** Replaces the repository's rows with what `compute` makes of the current ones, in one transaction. */
  private async change(repoKey: string, kind: 'push' | 'pull', compute: (current: (PushReplication | PullReplication)[]) => (PushReplication | PullReplication)[]): Promise<void> {
    const now = this.clock.now();
    await this.database.db.transaction().execute(async (trx: Transaction<Schema>) => {
      await bumpVersion(trx, 'repositories');
      const repo = await trx.selectFrom('repositories').select('rclass').where('repo_key', '=', repoKey).executeTakeFirst();
      if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${repoKey}' not found`);
      const rows = await trx.selectFrom('replications').selectAll().where('repo_key', '=', repoKey).orderBy('position').execute();
      const current = rows.map((r) => JSON.parse(r.config) as PushReplication | PullReplication);
      const next = compute(current).map((c) => this.sealed(c));
      await trx.deleteFrom('replications').where('repo_key', '=', repoKey).execute();
      if (next.length === 0) return;
      const old = new Map(rows.map((r) => [r.url, r]));
      await trx
        .insertInto('replications')
        .values(
          next.map((c, position) => {
            const url = kind === 'push' ? (c as PushReplication).url : '';
            const was = old.get(url);
            return {
              repo_key: repoKey,
              position,
              kind,
              url,
              config: JSON.stringify(c),
              requested_at: was?.requested_at ?? null,
              last_run: was?.last_run ?? null,
              created: was ? Number(was.created) : now,
              modified: now,
            };
          }),
        )
        .execute();
    });
    this.versions.changedLocally('repositories');
    await this.options.afterChange?.().catch(() => undefined);
  }
}
