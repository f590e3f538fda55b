import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BinaryProvider } from '../binary-provider.js';

/**
 * Authentication of node-to-node binary-store requests (the remote provider calling a peer's
 * `/api/binstore/node/…`). Every request carries the calling node's id, a timestamp and an
 * HMAC-SHA256 over method, path (with query), timestamp and node id, keyed with the secret
 * every node of the cluster derives from the shared master key. The receiver accepts a
 * signature only within a bounded clock skew; anything else is refused with 401.
 */

export const NODE_ID_HEADER = 'x-arca-node-id';
export const TIMESTAMP_HEADER = 'x-arca-node-timestamp';
export const SIGNATURE_HEADER = 'x-arca-node-signature';

/** Where the node API lives below a node's context URL (`…/artifactory`). */
export const NODE_API_PREFIX = '/api/binstore/node';

/** How far a request's timestamp may be from the receiver's clock (either way). */
export const DEFAULT_MAX_SKEW_MS = 120_000;

/** What a node's HTTP layer needs to serve the node API: its local shard and the cluster secret. */
export interface NodeBinstore {
  /** The node's LOCAL sub-provider: the node API never forwards to another node. */
  local: BinaryProvider;
  secret: Buffer;
  nodeId: string;
  /** Accepted clock skew; DEFAULT_MAX_SKEW_MS when absent. */
  maxSkewMs?: number;
}

function payload(method: string, path: string, timestamp: string, nodeId: string): string {
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${nodeId}`;
}

export function signature(secret: Buffer, method: string, path: string, timestamp: string, nodeId: string): string {
  return createHmac('sha256', secret).update(payload(method, path, timestamp, nodeId)).digest('hex');
}

/** The headers that authenticate one request; `path` starts at NODE_API_PREFIX and includes the query. */
export function signRequest(secret: Buffer, nodeId: string, method: string, path: string, nowMs: number): Record<string, string> {
  const timestamp = String(nowMs);
  return {
    [NODE_ID_HEADER]: nodeId,
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signature(secret, method, path, timestamp, nodeId),
  };
}

export type Verdict = { ok: true; nodeId: string } | { ok: false; reason: string };

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Checks the three headers of a request against the secret and the clock. */
export function verifyRequest(
  secret: Buffer,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  nowMs: number,
  maxSkewMs = DEFAULT_MAX_SKEW_MS,
): Verdict {
  const nodeId = one(headers[NODE_ID_HEADER]);
  const timestamp = one(headers[TIMESTAMP_HEADER]);
  const given = one(headers[SIGNATURE_HEADER]);
  if (!nodeId || !timestamp || !given) return { ok: false, reason: 'node authentication headers are missing' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'the node request timestamp is not a number of milliseconds' };
  const skew = Math.abs(nowMs - Number(timestamp));
  if (skew > maxSkewMs) return { ok: false, reason: `the node request timestamp is ${Math.round(skew / 1000)} s away from this node's clock (at most ${maxSkewMs / 1000} s accepted)` };
  if (!/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: 'the node request signature is malformed' };
  const expected = Buffer.from(signature(secret, method, path, timestamp, nodeId), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'the node request signature does not match (another cluster secret?)' };
  return { ok: true, nodeId };
}

/** The signed part of a request URL: from NODE_API_PREFIX on (so a proxy's context path does not matter). */
export function signedPath(url: string): string | undefined {
  const at = url.indexOf(NODE_API_PREFIX + '/');
  return at < 0 ? undefined : url.slice(at);
}
