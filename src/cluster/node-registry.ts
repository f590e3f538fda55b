import { hostname } from 'node:os';
import type { Selectable } from 'kysely';
import type { NodeIdentity } from '../config/node-identity.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import type { ClusterNodesTable } from '../db/schema.js';

export type NodeState = 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'UNAVAILABLE';
export type NodeRole = 'PRIMARY' | 'MEMBER' | 'STANDALONE';

export interface VersionFacts {
  version: string;
  revision: string;
  releaseDate: string;
}

/** One row of `GET /api/system/status`: the seed's High Availability table. */
export interface NodeStatus {
  id: string;
  state: NodeState;
  role: NodeRole;
  url: string | null;
  startTime: string;
  lastHeartbeat: string;
  version: string;
  revision: string;
  releaseDate: string;
  membershipPort: number;
  taskAffinity: string;
}

export class NodeRegistrationError extends Error {}

export interface RegistryOptions {
  /** `artifactory.ha.heartbeat.intervalSecs` (5 s). */
  heartbeatMs?: number;
  /** `artifactory.ha.heartbeat.staleSecs` (30 s): older heartbeats show as UNAVAILABLE. */
  staleMs?: number;
  /** Same for every process of one node start; a different one means another node. */
  instanceId: string;
  /** Whether a process still runs on this host (tests replace it). */
  processAlive?: (pid: number) => boolean;
}

type Row = Selectable<ClusterNodesTable>;

function majorMinor(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}

function defaultAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The node registry and heartbeat (REST-API.md §10): one row per node id, written every 5 s
 * while the node is RUNNING; a RUNNING node whose heartbeat is older than 30 s is reported
 * UNAVAILABLE.
 */
export class NodeRegistry {
  readonly heartbeatMs: number;
  readonly staleMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly alive: (pid: number) => boolean;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly identity: NodeIdentity,
    private readonly version: VersionFacts,
    private readonly options: RegistryOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.staleMs = options.staleMs ?? 30_000;
    this.alive = options.processAlive ?? defaultAlive;
  }

  get role(): NodeRole {
    if (!this.identity.haEnabled) return 'STANDALONE';
    return this.identity.primary ? 'PRIMARY' : 'MEMBER';
  }

  private isLive(row: Row, now: number): boolean {
    return row.server_state === 'RUNNING' && now - Number(row.last_heartbeat) <= this.staleMs;
  }

  /**
   * Registers this node as STARTING. Refuses when another live node holds the same id (a
   * restart of this node, or a crashed instance whose process is gone, is allowed), when a
   * live node runs another major.minor version, or when a second live PRIMARY would appear.
   */
  async register(): Promise<void> {
    const now = this.clock.now();
    const id = this.identity.nodeId;
    await this.database.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('cluster_nodes').selectAll().execute();
      const mine = rows.find((r) => r.server_id === id);
      if (mine && mine.instance_id !== this.options.instanceId && this.isLive(mine, now)) {
        const sameHostDead = mine.host === hostname() && !this.alive(Number(mine.pid));
        if (!sameHostDead) {
          const ago = Math.round((now - Number(mine.last_heartbeat)) / 1000);
          throw new NodeRegistrationError(
            `Node id '${id}' is already RUNNING on ${mine.host} (${mine.context_url ?? 'no context URL'}, heartbeat ${ago} s ago); ` +
              `stop that node or give this one another node.id`,
          );
        }
      }
      for (const r of rows) {
        if (r.server_id === id || !this.isLive(r, now)) continue;
        if (majorMinor(r.version) !== majorMinor(this.version.version)) {
          throw new NodeRegistrationError(
            `Node '${r.server_id}' runs version ${r.version}; this node is ${this.version.version}. All nodes of a cluster must run the same major.minor version`,
          );
        }
        if (this.role === 'PRIMARY' && r.server_role === 'PRIMARY') {
          throw new NodeRegistrationError(`Node '${r.server_id}' is already the running PRIMARY; only one node may set primary=true`);
        }
      }
      const values = {
        instance_id: this.options.instanceId,
        start_time: now,
        context_url: this.identity.contextUrl ?? null,
        membership_port: this.identity.membershipPort,
        server_state: 'STARTING',
        server_role: this.role,
        last_heartbeat: now,
        version: this.version.version,
        revision: this.version.revision,
        release_date: Date.parse(this.version.releaseDate) || 0,
        task_affinity: this.identity.taskAffinity,
        task_affinity_set: this.identity.taskAffinityExplicit === false ? 0 : 1,
        host: hostname(),
        pid: process.pid,
        advertised_ip: this.identity.advertisedIp ?? null,
      };
      if (mine) await trx.updateTable('cluster_nodes').set(values).where('server_id', '=', id).execute();
      else await trx.insertInto('cluster_nodes').values({ server_id: id, ...values }).execute();
    });
  }

  async setState(state: NodeState): Promise<void> {
    await this.database.db
      .updateTable('cluster_nodes')
      .set({ server_state: state, last_heartbeat: this.clock.now(), pid: process.pid })
      .where('server_id', '=', this.identity.nodeId)
      .where('instance_id', '=', this.options.instanceId)
      .execute();
  }

  /** Writes the heartbeat, only while RUNNING (as the seed's product does). */
  async heartbeat(): Promise<void> {
    await this.database.db
      .updateTable('cluster_nodes')
      .set({ last_heartbeat: this.clock.now() })
      .where('server_id', '=', this.identity.nodeId)
      .where('instance_id', '=', this.options.instanceId)
      .where('server_state', '=', 'RUNNING')
      .execute();
  }

  startHeartbeat(onError: (err: unknown) => void): void {
    this.timer = setInterval(() => {
      this.heartbeat().catch(onError);
    }, this.heartbeatMs);
    this.timer.unref();
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Every registered node's current start (instance id) and stored state: whose temp files may still be in use. */
  async runs(): Promise<Map<string, { instance: string; state: string }>> {
    const rows = await this.database.db.selectFrom('cluster_nodes').select(['server_id', 'instance_id', 'server_state']).execute();
    return new Map(rows.map((r) => [r.server_id, { instance: r.instance_id, state: r.server_state }]));
  }

  /** Every registered node, with RUNNING turned UNAVAILABLE when its heartbeat is stale. */
  async list(): Promise<NodeStatus[]> {
    const now = this.clock.now();
    const rows = await this.database.db.selectFrom('cluster_nodes').selectAll().orderBy('server_id').execute();
    return rows.map((r) => ({
      id: r.server_id,
      state: (r.server_state === 'RUNNING' && !this.isLive(r, now) ? 'UNAVAILABLE' : r.server_state) as NodeState,
      role: r.server_role as NodeRole,
      url: r.context_url,
      startTime: new Date(Number(r.start_time)).toISOString(),
      lastHeartbeat: new Date(Number(r.last_heartbeat)).toISOString(),
      version: r.version,
      revision: r.revision,
      releaseDate: new Date(Number(r.release_date)).toISOString(),
      membershipPort: Number(r.membership_port),
      taskAffinity: r.task_affinity,
    }));
  }
}
