import { guardedRequest, type UpstreamResponse } from './guarded-http.js';
import type { RemoteSettings } from './remote-settings.js';

export { UpstreamRefused, UpstreamUnreachable, type UpstreamResponse } from './guarded-http.js';

export function upstreamUrl(settings: RemoteSettings, urlPath: string): string {
  return `${settings.url}/${urlPath.replace(/^\/+/, '')}`;
}

function authHeader(settings: RemoteSettings): Record<string, string> {
  if (!settings.username) return {};
  return { authorization: `Basic ${Buffer.from(`${settings.username}:${settings.password}`).toString('base64')}` };
}

/**
 * Sends one request to a remote repository's upstream, with its credentials, and applies
 * `socketTimeoutMillis` both to the wait for headers and to every wait for more body bytes.
 * The remote's address policy decides where it may connect (see guarded-http.ts).
 */
export function upstreamRequest(
  settings: RemoteSettings,
  urlPath: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<UpstreamResponse> {
  return guardedRequest(settings.network, upstreamUrl(settings, urlPath), {
    method: init.method,
    headers: { 'user-agent': 'Arca remote repository', ...authHeader(settings), ...(init.headers ?? {}) },
    body: init.body,
    timeoutMs: settings.socketTimeoutMillis,
  });
}

/** The scheme, host and path of an upstream URL (no query, which may hold tokens). */
export function upstreamOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the upstream';
  }
}

/** Reads a small upstream body fully (checksum files, error pages), at most `limit` bytes. */
export async function readSmall(res: UpstreamResponse, limit = 64 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.length;
    if (total > limit) {
      res.cancel();
      break;
    }
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}
