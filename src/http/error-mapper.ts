/**
 * The one error mapper: any thrown value becomes the status, catalogue code, message and
 * headers of its answer. Each protocol then only chooses the body's shape (error-renderers.ts).
 *
 * - An `ArcaError` answers with its code's status and its own message. A 401 carries the
 *   Basic challenge, an error with `details.retryAfter` (seconds) a `Retry-After`.
 * - A client error raised by Fastify (a body over its limit, bad JSON, a failed schema)
 *   keeps its status and message; its code is PAYLOAD_TOO_LARGE for a 413, else BAD_REQUEST.
 * - A value PostgreSQL cannot fit in an index entry is a 400 BAD_REQUEST.
 * - The database having no free connection is a 503 UNAVAILABLE with `Retry-After: 1`
 *   (logged).
 * - Anything else, and a MISCONFIGURED error (its message names the node's files), is a
 *   fault of the server: 500 INTERNAL with no details, and `internal` set so it is logged.
 */
import { ArcaError, type ErrorCode } from '../core/errors.js';

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  INVALID_PATH: 400,
  INVALID_CONFIG: 400,
  NOT_FOUND: 404,
  REPO_NOT_FOUND: 404,
  ITEM_NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  CHECKSUM_MISMATCH: 409,
  CHECKSUM_DEPLOY_FAILED: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  LOCKED_OUT: 401,
  RANGE_NOT_SATISFIABLE: 416,
  PRECONDITION_FAILED: 412,
  STORAGE_FULL: 507,
  UPLOAD_ABORTED: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  UPSTREAM_FAILED: 502,
  METHOD_NOT_ALLOWED: 405,
  NOT_IMPLEMENTED: 501,
  INTERNAL: 500,
  MISCONFIGURED: 500,
};

/** Catalogue codes answered like an unexpected error: logged, their message withheld. */
const CONCEALED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['MISCONFIGURED']);

/** The challenge of a 401 outside the registry API (which sends its own Bearer and Basic ones). */
export const REALM = 'Basic realm="Artifactory Realm"';

export const INTERNAL_MESSAGE = 'Internal server error';

export interface MappedError {
  status: number;
  code: ErrorCode;
  message: string;
  /** Response headers the error implies (`WWW-Authenticate`, `Retry-After`). */
  headers: Record<string, string | string[]>;
  /** True for a fault of the server: the caller logs `error`. */
  internal: boolean;
  /** The thrown value, for a renderer that reads more of it (the registry's OCI code). */
  error: unknown;
}

export interface MapOptions {
  /**
   * The request came from a page's script (`X-Requested-With: XMLHttpRequest`): a 401
   * carries no challenge, so the browser opens no login dialog of its own.
   */
  xhr?: boolean;
  /**
   * Raised while Fastify read the request, before any route ran (an undecodable URL): the
   * client's fault whatever its status, so 400 with the error's message unless it has a 4xx.
   */
  beforeRouting?: boolean;
}

function clientStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function isJsonSyntax(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError;
}

/**
 * The database refused a connection for want of a free one: PostgreSQL's too_many_connections
 * (53300, for the server or the role), MySQL/MariaDB's ER_CON_COUNT_ERROR (1040),
 * ER_TOO_MANY_USER_CONNECTIONS (1203) and ER_USER_LIMIT_REACHED (1226). A passing overload,
 * not a broken request: the client may try again.
 */
export function noFreeConnection(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null;
  return e?.code === '53300' || e?.errno === 1040 || e?.errno === 1203 || e?.errno === 1226;
}

/**
 * PostgreSQL refused a row because one of its values is too large for a B-tree index entry
 * (program_limit_exceeded, "index row size … exceeds btree … maximum 2704"): a property value
 * of about 2,700 bytes or more that does not compress, say. The client's value, not a fault of
 * the server; the transaction rolled back, so nothing was written.
 */
export function tooLargeToIndex(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '54000' && typeof e.message === 'string' && /index row size/.test(e.message);
}

export const TOO_LARGE_TO_INDEX_MESSAGE = 'A value is too large to be indexed (a property value of more than about 2,700 bytes); nothing was changed';

export const NO_CONNECTION_MESSAGE = 'The database has no free connection for this request; try again';

export function mapError(err: unknown, options: MapOptions = {}): MappedError {
  const headers: Record<string, string | string[]> = {};
  let status: number;
  let code: ErrorCode;
  let message: string;
  let internal = false;
  if (err instanceof ArcaError && !CONCEALED.has(err.code)) {
    code = err.code;
    status = STATUS_BY_CODE[code];
    message = err.message;
    const retry = err.details?.retryAfter;
    if (typeof retry === 'number') headers['Retry-After'] = String(retry);
  } else if (clientStatus(err) !== undefined || (options.beforeRouting && err instanceof Error)) {
    status = clientStatus(err) ?? 400;
    code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    message = (err as Error).message;
    if (isJsonSyntax(err)) message = `Invalid JSON body: ${message}`;
  } else if (tooLargeToIndex(err)) {
    status = 400;
    code = 'BAD_REQUEST';
    message = TOO_LARGE_TO_INDEX_MESSAGE;
  } else if (noFreeConnection(err)) {
    // Logged (the operator sizes the database's connections), answered as a 503 to retry.
    status = 503;
    code = 'UNAVAILABLE';
    message = NO_CONNECTION_MESSAGE;
    headers['Retry-After'] = '1';
    internal = true;
  } else {
    status = 500;
    code = 'INTERNAL';
    message = INTERNAL_MESSAGE;
    internal = true;
  }
  if (status === 401 && !options.xhr) headers['WWW-Authenticate'] = REALM;
  return { status, code, message, headers, internal, error: err };
}
