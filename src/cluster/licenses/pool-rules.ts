/**
 * The Cluster License Manager's rules as pure functions over a snapshot of the pool and the
 * node registry at one instant (`now`, from the caller's Clock). The DB-backed pool reads the
 * snapshot under row locks, asks these functions what to do and applies their actions in the
 * same transaction.
 *
 * - A starting node takes the free license with the latest expiry.
 * - A node that stops (registry row STOPPED or gone) or is removed (its heartbeat older than
 *   the stale period: UNAVAILABLE) holds nothing any more: its license is free again.
 * - A node whose license expires within the expiry window switches to a free license that
 *   expires later, if there is one; otherwise it keeps its license (licenses are perpetual,
 *   an expired one still activates a node).
 * - A node that is STOPPING or STOPPED takes no license.
 * - A license may be deleted when no live node holds it, or when a free alternative exists:
 *   the holder then switches to that alternative.
 */

export interface PoolLicense {
  hash: string;
  /** Epoch ms from which the license is expired. */
  expiresAt: number;
  /** The node the pool row names as holder (it may be dead). */
  nodeId: string | null;
  /** Signed by the key this node trusts (false: never handed out by this node). Default true. */
  usable?: boolean;
}

export interface PoolNode {
  id: string;
  state: string;
  lastHeartbeat: number;
}

export interface RuleOptions {
  /** A node whose heartbeat is older than this holds no license (`arca.ha.heartbeatStaleSecs`). */
  staleMs: number;
  /** A license expiring within this window is swapped for a later one (`arca.license.expiryWindowDays`). */
  expiryWindowMs: number;
}

export type PoolAction =
  | { kind: 'release'; hash: string; from: string }
  | { kind: 'assign'; hash: string; to: string }
  | { kind: 'delete'; hash: string };

const HOLDING_STATES = new Set(['STARTING', 'RUNNING', 'STOPPING']);

/** Whether a registry row still holds its license: STARTING, RUNNING or STOPPING, with a fresh heartbeat. */
export function holderLive(node: PoolNode | undefined, now: number, staleMs: number): boolean {
  return node !== undefined && HOLDING_STATES.has(node.state) && now - node.lastHeartbeat <= staleMs;
}

/** The live holder of each license (undefined: the license is free), `self` counting as live. */
export function liveHolders(licenses: PoolLicense[], nodes: PoolNode[], now: number, staleMs: number, self?: string): Map<string, string | undefined> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Map<string, string | undefined>();
  for (const l of licenses) {
    const live = l.nodeId !== null && (l.nodeId === self || holderLive(byId.get(l.nodeId), now, staleMs));
    out.set(l.hash, live ? l.nodeId! : undefined);
  }
  return out;
}

/** Latest expiry first; the hash breaks ties so every node picks the same license. */
export function byPreference(a: PoolLicense, b: PoolLicense): number {
  return b.expiresAt - a.expiresAt || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);
}

/** Whether a license held until `expiresAt` should be swapped at `now`. */
export function expiringSoon(expiresAt: number, now: number, windowMs: number): boolean {
  return expiresAt - now <= windowMs;
}

/** Releases of every license whose named holder is not live. */
export function planReclaim(licenses: PoolLicense[], nodes: PoolNode[], now: number, options: RuleOptions, self?: string): PoolAction[] {
  const holders = liveHolders(licenses, nodes, now, options.staleMs, self);
  return licenses.filter((l) => l.nodeId !== null && holders.get(l.hash) === undefined).map((l) => ({ kind: 'release', hash: l.hash, from: l.nodeId! }));
}

export type EnsureOutcome = 'kept' | 'acquired' | 'swapped' | 'expiring' | 'none';

export interface EnsurePlan {
  actions: PoolAction[];
  /** The license `self` holds once the actions are applied. */
  hash: string | undefined;
  outcome: EnsureOutcome;
}

/**
 * What node `self` (which needs a license) should do: keep its license, take the free one with
 * the latest expiry, or swap an expiring one for a free one that expires later. Includes the
 * reclaim of licenses held by dead nodes.
 */
export function planEnsure(licenses: PoolLicense[], nodes: PoolNode[], self: string, now: number, options: RuleOptions): EnsurePlan {
  const mine = licenses.find((l) => l.nodeId === self);
  // A node on its way down takes nothing (its other processes may tick after it released).
  const me = nodes.find((n) => n.id === self);
  if (me && (me.state === 'STOPPING' || me.state === 'STOPPED')) return { actions: [], hash: mine?.hash, outcome: mine ? 'kept' : 'none' };
  const actions = planReclaim(licenses, nodes, now, options, self);
  const released = new Set(actions.map((a) => a.hash));
  const free = licenses.filter((l) => (l.nodeId === null || released.has(l.hash)) && l.usable !== false).sort(byPreference);
  if (mine && mine.usable !== false) {
    if (!expiringSoon(mine.expiresAt, now, options.expiryWindowMs)) return { actions, hash: mine.hash, outcome: 'kept' };
    const later = free.find((l) => l.expiresAt > mine.expiresAt);
    if (!later) return { actions, hash: mine.hash, outcome: 'expiring' };
    actions.push({ kind: 'release', hash: mine.hash, from: self }, { kind: 'assign', hash: later.hash, to: self });
    return { actions, hash: later.hash, outcome: 'swapped' };
  }
  // A license this node may not use (signed by another key) is given back.
  if (mine) actions.push({ kind: 'release', hash: mine.hash, from: self });
  const best = free[0];
  if (!best) return { actions, hash: undefined, outcome: 'none' };
  actions.push({ kind: 'assign', hash: best.hash, to: self });
  return { actions, hash: best.hash, outcome: 'acquired' };
}

/** Releases of `self`'s license (a node that stops). */
export function planRelease(licenses: PoolLicense[], self: string): PoolAction[] {
  return licenses.filter((l) => l.nodeId === self).map((l) => ({ kind: 'release', hash: l.hash, from: self }));
}

export type DeleteResult =
  | { hash: string; ok: true; message: string; node?: string; replacedBy?: string }
  | { hash: string; ok: false; reason: 'not-found' | 'in-use'; message: string; node?: string };

export interface DeletePlan {
  actions: PoolAction[];
  results: DeleteResult[];
}

/**
 * Deletes `hashes` where the rules allow it. A license held by a live node is deleted only when
 * a free usable license (not itself being deleted) can replace it; the holder gets the free one
 * with the latest expiry.
 */
export function planDelete(licenses: PoolLicense[], nodes: PoolNode[], hashes: string[], now: number, options: RuleOptions): DeletePlan {
  const actions = planReclaim(licenses, nodes, now, options);
  const holders = liveHolders(licenses, nodes, now, options.staleMs);
  const wanted = new Set(hashes);
  const taken = new Set<string>();
  const free = licenses.filter((l) => holders.get(l.hash) === undefined && l.usable !== false && !wanted.has(l.hash)).sort(byPreference);
  const byHash = new Map(licenses.map((l) => [l.hash, l]));
  const results: DeleteResult[] = [];
  for (const hash of [...wanted]) {
    const lic = byHash.get(hash);
    if (!lic) {
      results.push({ hash, ok: false, reason: 'not-found', message: 'License not found' });
      continue;
    }
    const holder = holders.get(hash);
    if (holder === undefined) {
      actions.push({ kind: 'delete', hash });
      results.push({ hash, ok: true, message: 'OK' });
      continue;
    }
    const alt = free.find((l) => !taken.has(l.hash));
    if (!alt) {
      results.push({
        hash,
        ok: false,
        reason: 'in-use',
        node: holder,
        message: `License is in use by node '${holder}' and no free license can replace it`,
      });
      continue;
    }
    taken.add(alt.hash);
    actions.push({ kind: 'release', hash, from: holder }, { kind: 'delete', hash }, { kind: 'assign', hash: alt.hash, to: holder });
    results.push({ hash, ok: true, node: holder, replacedBy: alt.hash, message: `OK (node '${holder}' switched to license ${alt.hash})` });
  }
  return { actions, results };
}

/** Applies actions to a copy of the pool (what the store does in SQL; used by tests and checks). */
export function applyActions(licenses: PoolLicense[], actions: PoolAction[]): PoolLicense[] {
  let out = licenses.map((l) => ({ ...l }));
  for (const a of actions) {
    if (a.kind === 'delete') out = out.filter((l) => l.hash !== a.hash);
    else {
      const l = out.find((x) => x.hash === a.hash);
      if (l) l.nodeId = a.kind === 'assign' ? a.to : null;
    }
  }
  return out;
}
