import type { TaskAffinity } from '../../config/node-identity.js';
import type { Db } from '../../db/items.js';

/** This node's own facts (from its configuration). */
export interface SelfAffinity {
  nodeId: string;
  taskAffinity: TaskAffinity;
  /** taskAffinity was set in system.yaml or the environment (not the default). */
  explicit: boolean;
  /** The legacy `primary` flag. */
  primary: boolean;
}

/** What the node registry says about one node. */
export interface PeerAffinity {
  id: string;
  state: string;
  role: string;
  taskAffinity: string;
  explicit: boolean;
}

export interface Eligibility {
  eligible: boolean;
  /** `affinity`: each node's taskAffinity decides; `legacy-primary`: only the primary runs tasks. */
  mode: 'affinity' | 'legacy-primary';
  reason: string;
}

/**
 * Whether this node may run cluster-wide tasks.
 *
 * - A node's `taskAffinity` (`any` by default) decides, as the seed's cloud-native HA says.
 * - Legacy rule, for clusters upgraded with only `primary` flags: when no node (registered, or
 *   this one) has set taskAffinity explicitly, and a node with the primary flag is registered
 *   and was not cleanly stopped (its state is not STOPPED), only primary nodes run tasks. A
 *   crashed primary (UNAVAILABLE) keeps this rule, so tasks wait for it as they did before
 *   cloud-native HA; a primary stopped cleanly does not.
 */
export function decideEligibility(self: SelfAffinity, peers: PeerAffinity[]): Eligibility {
  const others = peers.filter((p) => p.id !== self.nodeId);
  const anyExplicit = self.explicit || others.some((p) => p.explicit);
  const primaries = [...(self.primary ? [self.nodeId] : []), ...others.filter((p) => p.role === 'PRIMARY' && p.state !== 'STOPPED').map((p) => p.id)];
  if (!anyExplicit && primaries.length > 0) {
    return self.primary
      ? { eligible: true, mode: 'legacy-primary', reason: 'no node sets taskAffinity and this node is the primary: it runs the cluster tasks' }
      : { eligible: false, mode: 'legacy-primary', reason: `no node sets taskAffinity, so only the primary (${primaries.join(', ')}) runs cluster tasks; set taskAffinity: any on every node to share them` };
  }
  return self.taskAffinity === 'any'
    ? { eligible: true, mode: 'affinity', reason: `taskAffinity is any${self.explicit ? '' : ' (the default)'}` }
    : { eligible: false, mode: 'affinity', reason: 'taskAffinity is none' };
}

export async function readPeers(db: Db): Promise<PeerAffinity[]> {
  const rows = await db
    .selectFrom('cluster_nodes')
    .select(['server_id', 'server_state', 'server_role', 'task_affinity', 'task_affinity_set'])
    .execute();
  return rows.map((r) => ({
    id: r.server_id,
    state: r.server_state,
    role: r.server_role,
    taskAffinity: r.task_affinity,
    explicit: Number(r.task_affinity_set) === 1,
  }));
}
