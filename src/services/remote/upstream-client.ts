import type { RemoteSettings } from './remote-settings.js';

/** An upstream answer: status, headers and (for a GET) a body read with an idle timeout. */
export interface UpstreamResponse {
  status: number;
  headers: Headers;
  url: string;
  /** The upstream redirected the request (the final URL is `url`). */
  redirected: boolean;
  /** The body; each chunk must arrive within the socket timeout. Consume it or call `cancel`. */
  body: AsyncIterable<Uint8Array>;
  cancel(): void;
}

/** The upstream could not be reached or stopped answering (refused, reset, timed out). */
export class UpstreamUnreachable extends Error {}

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
 */
export async function upstreamRequest(
  settings: RemoteSettings,
  urlPath: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<UpstreamResponse> {
  const url = upstreamUrl(settings, urlPath);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new UpstreamUnreachable(`No answer from ${url} within ${settings.socketTimeoutMillis} ms`)), settings.socketTimeoutMillis);
  };
  arm();
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { 'user-agent': 'Arca remote repository', ...authHeader(settings), ...(init.headers ?? {}) },
      body: init.body,
      signal: abort.signal,
      redirect: 'follow',
    });
  } catch (err) {
    clearTimeout(timer);
    const reason = abort.signal.aborted ? abort.signal.reason : err;
    throw new UpstreamUnreachable(`Upstream ${url} is unreachable: ${(reason as Error)?.cause ? String((reason as Error).cause) : (reason as Error)?.message}`);
  }
  const reader = res.body?.getReader();
  arm();
  async function* body(): AsyncIterable<Uint8Array> {
    let finished = false;
    try {
      if (!reader) return;
      for (;;) {
        let step;
        try {
          step = await reader.read();
        } catch (err) {
          const reason = abort.signal.aborted ? abort.signal.reason : err;
          throw new UpstreamUnreachable(`Download from ${url} failed: ${(reason as Error)?.message ?? String(reason)}`);
        }
        if (step.done) {
          finished = true;
          return;
        }
        arm();
        yield step.value;
      }
    } finally {
      clearTimeout(timer);
      // Left early (a consumer stopped reading): close the upstream connection's body.
      if (!finished) void reader?.cancel().catch(() => undefined);
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    url: res.url || url,
    redirected: res.redirected,
    body: body(),
    cancel() {
      clearTimeout(timer);
      void reader?.cancel().catch(() => undefined);
    },
  };
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
