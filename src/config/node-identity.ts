import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadHaNodeProperties, pickInterfaceAddress } from './ha-node.js';
import type { HomeLayout } from './home.js';
import { ConfigError } from '../core/errors.js';
import type { SystemConfig } from './system-yaml.js';

export type TaskAffinity = 'any' | 'none';

/** Who this node is: from `etc/ha-node.properties` (when present) over `system.yaml` `shared.node.*`. */
export interface NodeIdentity {
  nodeId: string;
  haEnabled: boolean;
  /** The URL peers use to reach this node (`context.url`); undefined outside HA. */
  contextUrl?: string;
  membershipPort: number;
  /** Legacy primary flag (ha-node.properties `primary` or `shared.node.primary`). */
  primary: boolean;
  taskAffinity: TaskAffinity;
  /**
   * taskAffinity was set (system.yaml or the environment) rather than defaulted; false only
   * matters for the legacy primary-only rule of the task scheduler (undefined counts as set).
   */
  taskAffinityExplicit?: boolean;
  /** Address advertised to peers: `hazelcast.interface` match or `shared.node.ip`. */
  advertisedIp?: string;
  /** `artifactory.ha.data.dir`: the shared binary store directory. */
  haDataDir?: string;
  haBackupDir?: string;
  /** Where the settings came from, for the start-up log. */
  source: string;
  warnings: string[];
}

export function haNodeFile(layout: HomeLayout): string {
  return join(layout.etc, 'ha-node.properties');
}

export function resolveNodeIdentity(layout: HomeLayout, system: SystemConfig): NodeIdentity {
  const file = haNodeFile(layout);
  const loaded = loadHaNodeProperties(file);
  const warnings = [...(loaded?.warnings ?? [])];
  const affinityRaw = String(system.get('shared.node.taskAffinity') ?? 'any').toLowerCase();
  if (affinityRaw !== 'any' && affinityRaw !== 'none') {
    throw new ConfigError(`system.yaml: shared.node.taskAffinity must be 'any' or 'none', got '${affinityRaw}'`);
  }
  const taskAffinity = affinityRaw as TaskAffinity;
  const taskAffinityExplicit = system.isSet('shared.node.taskAffinity');
  if (loaded) {
    const p = loaded.props;
    let advertisedIp = system.string('shared.node.ip');
    if (p.hazelcastInterface) {
      const picked = pickInterfaceAddress(p.hazelcastInterface);
      if (picked) advertisedIp = picked;
      else warnings.push(`${file}: no local address matches hazelcast.interface '${p.hazelcastInterface}'`);
    }
    return {
      nodeId: p.nodeId,
      haEnabled: true,
      contextUrl: p.contextUrl,
      membershipPort: p.membershipPort,
      primary: p.primary || system.bool('shared.node.primary'),
      taskAffinity,
      taskAffinityExplicit,
      advertisedIp,
      haDataDir: p.haDataDir,
      haBackupDir: p.haBackupDir,
      source: file,
      warnings,
    };
  }
  return {
    nodeId: system.string('shared.node.id') ?? hostname(),
    haEnabled: system.bool('shared.node.haEnabled'),
    contextUrl: system.string('shared.node.contextUrl')?.replace(/\/+$/, ''),
    membershipPort: 0,
    primary: system.bool('shared.node.primary'),
    taskAffinity,
    taskAffinityExplicit,
    advertisedIp: system.string('shared.node.ip'),
    haDataDir: system.string('artifactory.node.haDataDir'),
    haBackupDir: system.string('artifactory.node.haBackupDir'),
    source: 'system.yaml',
    warnings,
  };
}
