import { existsSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { parseProperties } from './properties.js';

/** `etc/ha-node.properties`, the seed's per-node HA file. */
export interface HaNodeProperties {
  nodeId: string;
  /** Trimmed of a trailing `/` (it breaks propagation in the seed's product). */
  contextUrl: string;
  /** 0 when absent or 0: unused since the seed's 6.2. */
  membershipPort: number;
  primary: boolean;
  haDataDir?: string;
  haBackupDir?: string;
  hazelcastInterface?: string;
}

export interface LoadedHaNode {
  props: HaNodeProperties;
  warnings: string[];
}

const KNOWN = new Set(['node.id', 'context.url', 'membership.port', 'primary', 'artifactory.ha.data.dir', 'artifactory.ha.backup.dir', 'hazelcast.interface']);

function parseBool(v: string, key: string, file: string): boolean {
  const b = v.trim().toLowerCase();
  if (b === 'true') return true;
  if (b === 'false' || b === '') return false;
  throw new ConfigError(`${file}: ${key} must be true or false, got '${v}'`);
}

/** Reads ha-node.properties when present; undefined when the file does not exist. */
export function loadHaNodeProperties(file: string): LoadedHaNode | undefined {
  if (!existsSync(file)) return undefined;
  const warnings: string[] = [];
  const mode = statSync(file).mode & 0o777;
  if (mode !== 0o644) {
    warnings.push(`${file} has mode ${mode.toString(8).padStart(3, '0')}; the seed advises 644 (-rw-r--r--)`);
  }
  const p = parseProperties(readFileSync(file, 'utf8'));
  for (const key of p.keys()) if (!KNOWN.has(key)) warnings.push(`${file}: unknown key '${key}' is ignored`);
  const nodeId = (p.get('node.id') ?? '').trim();
  if (!nodeId) throw new ConfigError(`${file}: node.id is required`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(nodeId)) {
    throw new ConfigError(`${file}: node.id '${nodeId}' must be at most 64 letters, digits, dots, dashes or underscores`);
  }
  const contextUrl = (p.get('context.url') ?? '').trim().replace(/\/+$/, '');
  if (!contextUrl) throw new ConfigError(`${file}: context.url is required`);
  try {
    const u = new URL(contextUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(`${file}: context.url '${contextUrl}' is not an http(s) URL`);
  }
  const portRaw = (p.get('membership.port') ?? '0').trim();
  const membershipPort = portRaw === '' ? 0 : Number(portRaw);
  if (!Number.isInteger(membershipPort) || membershipPort < 0 || membershipPort > 65535) {
    throw new ConfigError(`${file}: membership.port must be a port number or 0, got '${portRaw}'`);
  }
  // The seed's examples write "192.168.0.2 (optional)"; only the first word is the value.
  const iface = p.get('hazelcast.interface')?.trim().split(/\s+/)[0];
  const opt = (k: string) => {
    const v = p.get(k)?.trim();
    return v ? v : undefined;
  };
  return {
    props: {
      nodeId,
      contextUrl,
      membershipPort,
      primary: parseBool(p.get('primary') ?? 'false', 'primary', file),
      haDataDir: opt('artifactory.ha.data.dir'),
      haBackupDir: opt('artifactory.ha.backup.dir'),
      hazelcastInterface: iface || undefined,
    },
    warnings,
  };
}

/** True when `address` matches a `hazelcast.interface` pattern such as `10.1.*.*` or `10.1.*`. */
export function matchesInterfacePattern(pattern: string, address: string): boolean {
  const pp = pattern.split('.');
  const ap = address.split('.');
  if (!address.includes('.')) return pattern === address;
  for (let i = 0; i < ap.length; i++) {
    const seg = pp[i];
    if (seg === undefined) return false;
    if (seg === '*') {
      // A trailing `*` stands for the rest of the address (`10.1.*` matches 10.1.2.3).
      if (i === pp.length - 1) return true;
      continue;
    }
    if (seg.includes('-')) {
      const [lo, hi] = seg.split('-').map(Number);
      const n = Number(ap[i]);
      if (!(n >= lo && n <= hi)) return false;
      continue;
    }
    if (seg !== ap[i]) return false;
  }
  return pp.length === ap.length;
}

/** The local address `hazelcast.interface` selects, or undefined when none matches. */
export function pickInterfaceAddress(pattern: string, interfaces = networkInterfaces()): string | undefined {
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (matchesInterfacePattern(pattern, a.address)) return a.address;
    }
  }
  return undefined;
}
