import type { KeyObject } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import { dialectOf, orIgnore } from '../../db/dialect.js';
import type { ClusterLicensesTable, Schema } from '../../db/schema.js';
import { bumpVersion } from '../config-versions.js';
import { displayDate, LicenseKeyError, verifyLicense } from './license-key.js';
import { byPreference, liveHolders, planDelete, planEnsure, planRelease, type DeleteResult, type EnsurePlan, type PoolAction, type PoolLicense, type PoolNode, type RuleOptions } from './pool-rules.js';

export type LicenseRow = Selectable<ClusterLicensesTable>;

/** What a node or user sees in a "Node ID"/"Node URL" cell of a license nobody holds. */
export const NOT_IN_USE = 'Not in use';

/** One row of `GET /api/system/licenses` (REST-API.md §5, plus `licenseId` and `validThroughDate`). */
export interface LicenseEntry {
  type: string;
  /** `MMM d, yyyy`, as the seed shows it. */
  validThrough: string;
  licensedTo: string;
  licenseHash: string;
  nodeId: string;
  nodeUrl: string;
  expired: boolean;
  licenseId: string;
  /** `YYYY-MM-DD`, for sorting and forms. */
  validThroughDate: string;
}

export interface InstallResult {
  key: string;
  ok: boolean;
  message: string;
  hash?: string;
}

export interface PoolOptions extends RuleOptions {
  /** This node's id (the holder name it writes). */
  nodeId: string;
  /** Keys are accepted and handed out only when signed by this key. */
  publicKey: KeyObject;
}

export interface EnsureResult extends EnsurePlan {
  license?: LicenseRow;
}

type Trx = Transaction<Schema>;

function retriable(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  return (
    e?.code === '40P01' || e?.code === '40001' || e?.code === '23505' || e?.errno === 1213 || e?.errno === 1205 || e?.errno === 1062 || e?.code === 'SQLITE_BUSY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/**
 * The cluster license pool in the database. Every change runs in one transaction that first
 * locks every pool row (`SELECT … FOR UPDATE` in hash order on PostgreSQL and MySQL/MariaDB;
 * SQLite's write transactions are exclusive), reads the node registry, asks the pure rules of
 * `pool-rules.ts` what to do and applies their actions. Deadlocks and serialisation failures
 * retry the whole transaction.
 */
export class LicensePool {
  private readonly verified = new Map<string, boolean>();

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    readonly options: PoolOptions,
  ) {}

  private usable(row: LicenseRow): boolean {
    let ok = this.verified.get(row.license_hash);
    if (ok === undefined) {
      try {
        ok = verifyLicense(row.license_key, this.options.publicKey).hash === row.license_hash;
      } catch {
        ok = false;
      }
      this.verified.set(row.license_hash, ok);
    }
    return ok;
  }

  private toPool(rows: LicenseRow[]): PoolLicense[] {
    return rows.map((r) => ({ hash: r.license_hash, expiresAt: Number(r.expires_at), nodeId: r.node_id, usable: this.usable(r) }));
  }

  private async readNodes(db: Database['db'] | Trx): Promise<{ nodes: PoolNode[]; urls: Map<string, string | null> }> {
    const rows = await db.selectFrom('cluster_nodes').select(['server_id', 'server_state', 'last_heartbeat', 'context_url']).execute();
    return {
      nodes: rows.map((r) => ({ id: r.server_id, state: r.server_state, lastHeartbeat: Number(r.last_heartbeat) })),
      urls: new Map(rows.map((r) => [r.server_id, r.context_url])),
    };
  }

  private async lockedRows(trx: Trx): Promise<LicenseRow[]> {
    let q = trx.selectFrom('cluster_licenses').selectAll().orderBy('license_hash');
    if (dialectOf(trx) !== 'sqlite') q = q.forUpdate();
    return q.execute();
  }

  /** Runs `fn` in a transaction holding the pool's row locks, retrying deadlocks. */
  private async locked<T>(fn: (trx: Trx, rows: LicenseRow[], nodes: PoolNode[]) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.database.db.transaction().execute(async (trx) => {
          const rows = await this.lockedRows(trx);
          const { nodes } = await this.readNodes(trx);
          return fn(trx, rows, nodes);
        });
      } catch (err) {
        if (attempt >= 6 || !retriable(err)) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 40));
      }
    }
  }

  private async apply(trx: Trx, actions: PoolAction[]): Promise<void> {
    const now = this.clock.now();
    for (const a of actions) {
      const q = trx.updateTable('cluster_licenses').where('license_hash', '=', a.hash);
      if (a.kind === 'release') await q.set({ node_id: null, assigned_at: null }).execute();
      else if (a.kind === 'assign') await q.set({ node_id: a.to, assigned_at: now }).execute();
      else await trx.deleteFrom('cluster_licenses').where('license_hash', '=', a.hash).execute();
    }
  }

  /** Every license of the pool, latest expiry first, with its live holder (or "Not in use"). */
  async list(): Promise<LicenseEntry[]> {
    const db = this.database.db;
    const rows = await db.selectFrom('cluster_licenses').selectAll().execute();
    const { nodes, urls } = await this.readNodes(db);
    const now = this.clock.now();
    const holders = liveHolders(this.toPool(rows), nodes, now, this.options.staleMs, this.options.nodeId);
    const byHash = new Map(rows.map((r) => [r.license_hash, r]));
    return this.toPool(rows)
      .sort(byPreference)
      .map((l) => {
        const r = byHash.get(l.hash)!;
        const holder = holders.get(l.hash);
        return {
          type: r.license_type,
          validThrough: displayDate(r.valid_through),
          licensedTo: r.licensed_to,
          licenseHash: r.license_hash,
          nodeId: holder ?? NOT_IN_USE,
          nodeUrl: holder === undefined ? NOT_IN_USE : (urls.get(holder) ?? ''),
          expired: now >= Number(r.expires_at),
          licenseId: r.license_id,
          validThroughDate: r.valid_through,
        };
      });
  }

  /** Adds keys to the pool (each verified; one already there is fine). One result per key, in order. */
  async install(keys: string[], addedBy: string): Promise<InstallResult[]> {
    const results: InstallResult[] = [];
    const fresh = new Map<string, ReturnType<typeof verifyLicense>>();
    for (const key of keys) {
      try {
        const v = verifyLicense(key, this.options.publicKey);
        fresh.set(v.hash, v);
        results.push({ key, ok: true, message: 'OK', hash: v.hash });
      } catch (err) {
        if (!(err instanceof LicenseKeyError)) throw err;
        results.push({ key, ok: false, message: err.message });
      }
    }
    if (fresh.size === 0) return results;
    const now = this.clock.now();
    await this.locked(async (trx) => {
      for (const v of fresh.values()) {
        const values = {
          license_hash: v.hash,
          license_key: v.key,
          license_id: v.doc.id,
          licensed_to: v.doc.licensedTo,
          license_type: v.doc.type,
          valid_through: v.doc.validThrough,
          expires_at: v.expiresAt,
          node_id: null,
          assigned_at: null,
          added_by: addedBy,
          added_at: now,
        };
        await orIgnore(trx, trx.insertInto('cluster_licenses').values(values), 'license_hash').execute();
      }
      // Every process of every node looks at the pool again soon (unlicensed nodes take one).
      await bumpVersion(trx, 'system');
    });
    return results;
  }

  /** Deletes licenses where the rules allow it (see planDelete); one result per distinct hash. */
  async remove(hashes: string[]): Promise<DeleteResult[]> {
    return this.locked(async (trx, rows, nodes) => {
      const plan = planDelete(this.toPool(rows), nodes, hashes, this.clock.now(), this.options);
      await this.apply(trx, plan.actions);
      if (plan.actions.length > 0) await bumpVersion(trx, 'system');
      return plan.results;
    });
  }

  /**
   * Makes sure this node holds a license: keeps it, takes the free one with the latest expiry,
   * or swaps an expiring one (planEnsure). Licenses of dead nodes return to the pool on the
   * way. Reads without locks first and opens the locking transaction only when there is
   * something to change.
   */
  async ensure(): Promise<EnsureResult> {
    const self = this.options.nodeId;
    const db = this.database.db;
    const rows = await db.selectFrom('cluster_licenses').selectAll().execute();
    const { nodes } = await this.readNodes(db);
    const quick = planEnsure(this.toPool(rows), nodes, self, this.clock.now(), this.options);
    if (quick.actions.length === 0) return { ...quick, license: rows.find((r) => r.license_hash === quick.hash) };
    return this.locked(async (trx, locked, lockedNodes) => {
      const plan = planEnsure(this.toPool(locked), lockedNodes, self, this.clock.now(), this.options);
      await this.apply(trx, plan.actions);
      return { ...plan, license: locked.find((r) => r.license_hash === plan.hash) };
    });
  }

  /** Gives this node's license back to the pool (the node stops). */
  async release(): Promise<number> {
    return this.locked(async (trx, rows) => {
      const actions = planRelease(this.toPool(rows), this.options.nodeId);
      await this.apply(trx, actions);
      return actions.length;
    });
  }

  /** The license the pool names for this node, if any (no liveness rules: it is this node). */
  async held(): Promise<LicenseRow | undefined> {
    return this.database.db.selectFrom('cluster_licenses').selectAll().where('node_id', '=', this.options.nodeId).executeTakeFirst();
  }
}
