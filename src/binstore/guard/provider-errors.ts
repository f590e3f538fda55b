import { ArcaError, isArcaError } from '../../core/errors.js';

/** Which provider of a chain an error came from: its element id (`<id>@<node>` for a peer's remote) and type. */
export interface ProviderRef {
  id: string;
  type: string;
}

/** Errno codes of a storage or network outage that may pass. */
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EIO',
  'EBUSY',
  'EAGAIN',
  'EACCES',
  'EPERM',
  'EROFS',
  'ESTALE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether another attempt may succeed. Catalogue errors other than UNAVAILABLE are answers
 * (ITEM_NOT_FOUND, BAD_REQUEST, CHECKSUM_MISMATCH, STORAGE_FULL…), as are programming
 * errors and aborts; a 4xx from an HTTP SDK is an answer too, except 408 and 429.
 * Everything else (network errors, 5xx, UNAVAILABLE) is transient.
 */
export function isTransientError(err: unknown): boolean {
  if (isArcaError(err)) return err.code === 'UNAVAILABLE';
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return false;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; statusCode?: number } | undefined;
  if (e?.name === 'AbortError') return false;
  if (e?.code && TRANSIENT_ERRNO.has(e.code)) return true;
  const status = e?.$metadata?.httpStatusCode ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return status === 408 || status === 429;
  if (e?.code === 'ENOENT') return false;
  return true;
}

/** Operations whose ENOENT means "this binary is not there". */
const LOOKUPS = new Set(['read', 'readBuffer', 'openFile', 'size', 'exists']);

/** The provider an error was stamped with, if any. */
export function providerOf(err: unknown): string | undefined {
  const p = isArcaError(err) ? err.details?.provider : undefined;
  return typeof p === 'string' ? p : undefined;
}

export interface NormalisedError {
  error: unknown;
  /** Nothing in the catalogue fits (a programming error, an SDK's 4xx): worth a log line with the original. */
  unexpected: boolean;
}

/**
 * Turns what a provider threw into the catalogue's typed error, stamped with the provider
 * (`details.provider`, `details.providerType`), so a failure deep in a chain names the
 * provider that failed. The innermost stamp wins: an error a child's guard already stamped
 * passes through unchanged. Transience is kept as `isTransientError` judged the raw error,
 * so `retry` and `eventual` decide as before:
 *
 * - an ArcaError keeps its code, message and details, with the stamp added;
 * - an abort (`AbortError`) is the caller's, not the provider's: passed on as it is;
 * - ENOSPC/EDQUOT: STORAGE_FULL; ENOENT of a lookup: ITEM_NOT_FOUND;
 * - anything transient (network and I/O errno codes, EACCES/EROFS, 5xx, 408/429): UNAVAILABLE;
 * - the rest (ENOENT elsewhere, an SDK's 4xx, programming errors): INTERNAL, flagged `unexpected`.
 */
export function normaliseProviderError(err: unknown, ref: ProviderRef, op: string, key?: string): NormalisedError {
  const stamp = { provider: ref.id, providerType: ref.type };
  if (isArcaError(err)) {
    // Subclasses (with their own fields) and errors a child's guard stamped pass as they are.
    if (providerOf(err) !== undefined || Object.getPrototypeOf(err) !== ArcaError.prototype) return { error: err, unexpected: false };
    return { error: new ArcaError(err.code, err.message, { ...err.details, ...stamp }, err), unexpected: false };
  }
  const e = err as { name?: string; code?: unknown; message?: unknown } | undefined;
  if (e?.name === 'AbortError') return { error: err, unexpected: false };
  const who = `Binary provider '${ref.id}' (${ref.type})`;
  const what = key ? `${op} ${key}` : op;
  const reason = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') {
    return { error: new ArcaError('STORAGE_FULL', `${who} has no space left to ${what}: ${reason}`, stamp, err), unexpected: false };
  }
  if (e?.code === 'ENOENT' && key !== undefined && LOOKUPS.has(op)) {
    return { error: new ArcaError('ITEM_NOT_FOUND', `Binary ${key} is missing from provider '${ref.id}' (${ref.type})`, stamp, err), unexpected: false };
  }
  if (isTransientError(err)) {
    return { error: new ArcaError('UNAVAILABLE', `${who} could not ${what}: ${reason}`, stamp, err), unexpected: false };
  }
  return { error: new ArcaError('INTERNAL', `${who} failed to ${what}; the node log has the details`, stamp, err), unexpected: true };
}
