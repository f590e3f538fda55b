import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Names of temp files, so that a sweep can tell whose a leftover is. Every temp file Arca
 * writes (staged uploads, eventual `_pre` files, cache fills, object-store staging) is named
 *
 *   `<prefix><node>.<host>.<instance>.<pid>.<uuid>.tmp`
 *
 * with `node` the node id (percent-encoded, no dots), `host` a short hash of the host name,
 * `instance` the node start (shared by the worker processes of one start) and `pid` the
 * writing process. A temp directory may be on a shared mount (NFS) with other nodes' uploads
 * in flight: see `temp-sweep.ts` for what is provably dead.
 *
 * The owner is per process: the composition root sets it once the node's id and instance are
 * known (`setTempOwner`); before that, files carry the node id `unset`.
 */
export interface TempOwner {
  node: string;
  host: string;
  instance: string;
  pid: number;
}

export interface ParsedTempName {
  prefix: string;
  owner: TempOwner;
}

/** The prefixes of temp files; legacy names (`upload-<uuid>.tmp`, before owners were named) have them too. */
export const TEMP_PREFIXES = ['upload-', 'fill-', 'delete-', 'replication-'] as const;

export function hostTag(name = hostname()): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}

const encodeNode = (id: string) => encodeURIComponent(id).replace(/[.!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const instanceTag = (instance: string) => instance.replace(/[^0-9a-zA-Z]/g, '').slice(0, 16) || 'none';

let owner: TempOwner = { node: 'unset', host: hostTag(), instance: instanceTag(randomUUID()), pid: process.pid };
/** Every instance this process has written under (tests run several nodes in one process). */
const ownInstances = new Set([owner.instance]);
const dirs = new Set<string>();

/** Sets this process's owner (the node id and the node start's instance id). */
export function setTempOwner(nodeId: string, instance: string): TempOwner {
  owner = { node: nodeId, host: hostTag(), instance: instanceTag(instance), pid: process.pid };
  ownInstances.add(owner.instance);
  return owner;
}

/** Whether this process has written temp files under `instance` (a file with this pid but another instance is from an earlier process). */
export function isOwnInstance(instance: string): boolean {
  return ownInstances.has(instance);
}

export function tempOwner(): TempOwner {
  return owner.pid === process.pid ? owner : (owner = { ...owner, pid: process.pid });
}

/** A new temp file name with this process's owner. */
export function tempName(prefix: string): string {
  const o = tempOwner();
  return `${prefix}${encodeNode(o.node)}.${o.host}.${o.instance}.${o.pid}.${randomUUID()}.tmp`;
}

/** The owner a temp file's name records; undefined for a legacy or foreign name. */
export function parseTempName(name: string): ParsedTempName | undefined {
  const prefix = TEMP_PREFIXES.find((p) => name.startsWith(p));
  if (!prefix || !name.endsWith('.tmp')) return undefined;
  const parts = name.slice(prefix.length, -'.tmp'.length).split('.');
  if (parts.length !== 5) return undefined;
  const [node, host, instance, pid] = parts;
  if (!/^[0-9a-f]{8}$/.test(host) || !/^\d+$/.test(pid)) return undefined;
  try {
    return { prefix, owner: { node: decodeURIComponent(node), host, instance, pid: Number(pid) } };
  } catch {
    return undefined;
  }
}

/** Whether `name` is a temp file Arca writes (owned or legacy). */
export function isTempName(name: string): boolean {
  return TEMP_PREFIXES.some((p) => name.startsWith(p)) && name.endsWith('.tmp');
}

/** Records a directory that holds temp files (a provider's staging area), for the sweep. */
export function registerTempDir(dir: string): void {
  dirs.add(dir);
}

/** Every temp directory registered in this process. */
export function tempDirs(): string[] {
  return [...dirs];
}
