/**
 * The UI's only way to the REST API: same-origin fetch (the session cookie authenticates it),
 * JSON in and out, and errors in every wire shape the API uses turned into one ApiError.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The parsed body, when there was one (e.g. the licenses API's `{status, messages}`). */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Dispatched on window when a request answers 401: the session ended (or never began). */
export const UNAUTHORIZED_EVENT = 'arca:unauthorized';

export interface ApiInit {
  method?: string;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is (text/plain unless `contentType`). */
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not announce a 401 (the login page's own calls). */
  quiet401?: boolean;
}

/** The message of an error body: JFrog `{errors:[{message}]}`, npm `{error}`, `{message}`, or text. */
export function errorMessage(body: unknown, fallback: string): string {
  if (typeof body === 'string') return body.trim() || fallback;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (Array.isArray(b.errors) && b.errors.length > 0) {
      const first = b.errors[0] as Record<string, unknown>;
      if (typeof first?.message === 'string') return first.message;
    }
    if (typeof b.error === 'string') return b.error;
    if (typeof b.message === 'string') return b.message;
    if (b.messages && typeof b.messages === 'object') {
      const msgs = Object.entries(b.messages as Record<string, unknown>).map(([k, v]) => `${k.length > 24 ? k.slice(0, 24) + '…' : k}: ${String(v)}`);
      if (msgs.length > 0) return msgs.join('; ');
    }
  }
  return fallback;
}

async function parseBody(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined;
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  if (text === '') return undefined;
  if (/json/i.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** Calls `path` (absolute, e.g. `/artifactory/api/repositories`) and returns the parsed body. */
export async function api<T = unknown>(path: string, init: ApiInit = {}): Promise<T> {
  // X-Requested-With: a 401 then comes without a Basic challenge, which would open the browser's own login dialog.
  const headers: Record<string, string> = { accept: 'application/json, text/plain, */*', 'x-requested-with': 'XMLHttpRequest', ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.body !== undefined) {
    headers['content-type'] = init.contentType ?? 'text/plain';
    body = init.body;
  }
  const res = await fetch(path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal: init.signal, credentials: 'same-origin' });
  const parsed = await parseBody(res);
  if (!res.ok) {
    if (res.status === 401 && !init.quiet401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    throw new ApiError(res.status, errorMessage(parsed, `${res.status} ${res.statusText}`), parsed);
  }
  return parsed as T;
}

/** Percent-encodes each segment of a repository path, keeping the slashes. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** `/artifactory/{repo}/{path}`: where a file is downloaded or deployed. */
export function artifactUrl(repo: string, path: string): string {
  return `/artifactory/${encodeURIComponent(repo)}${path ? `/${encodePath(path.replace(/^\/+/, ''))}` : ''}`;
}

/** `/artifactory/api/storage/{repo}/{path}`. */
export function storageUrl(repo: string, path: string): string {
  return `/artifactory/api/storage/${encodeURIComponent(repo)}${path ? `/${encodePath(path.replace(/^\/+/, ''))}` : ''}`;
}
