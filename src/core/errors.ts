/**
 * The error catalogue. Domain code throws `ArcaError` with a stable code; only the HTTP
 * layer maps a code to a status and headers (see `http/error-mapper.ts`). Every code has a
 * row in docs/errors.md (checked by `http/errors-documented.test.ts`).
 */
export const ERROR_CODES = {
  BAD_REQUEST: 'bad request',
  INVALID_PATH: 'invalid path',
  INVALID_CONFIG: 'invalid configuration',
  NOT_FOUND: 'not found',
  REPO_NOT_FOUND: 'repository not found',
  ITEM_NOT_FOUND: 'item not found',
  CONFLICT: 'conflict',
  ALREADY_EXISTS: 'already exists',
  CHECKSUM_MISMATCH: 'checksum mismatch',
  CHECKSUM_DEPLOY_FAILED: 'checksum deploy failed',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  LOCKED_OUT: 'locked out',
  RANGE_NOT_SATISFIABLE: 'range not satisfiable',
  PRECONDITION_FAILED: 'precondition failed',
  STORAGE_FULL: 'insufficient storage',
  UPLOAD_ABORTED: 'upload aborted',
  PAYLOAD_TOO_LARGE: 'payload too large',
  UNAVAILABLE: 'service unavailable',
  UPSTREAM_FAILED: 'upstream failed',
  METHOD_NOT_ALLOWED: 'method not allowed',
  NOT_IMPLEMENTED: 'not implemented',
  INTERNAL: 'internal error',
  MISCONFIGURED: 'invalid node configuration',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ArcaError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message ?? ERROR_CODES[code], cause === undefined ? undefined : { cause });
    this.name = 'ArcaError';
    this.code = code;
    this.details = details;
  }
}

/**
 * A node's own configuration (its files, system.yaml keys, environment) is unusable. Thrown
 * while a node or a CLI command starts; `arca` prints the message and stops.
 */
export class ConfigError extends ArcaError {
  /** `INVALID_CONFIG` for a parameter of a configuration file a caller can also send (binarystore.xml providers). */
  constructor(message: string, code: 'MISCONFIGURED' | 'INVALID_CONFIG' = 'MISCONFIGURED') {
    super(code, message);
    this.name = 'ConfigError';
  }
}

export function isArcaError(err: unknown, code?: ErrorCode): err is ArcaError {
  return err instanceof ArcaError && (code === undefined || err.code === code);
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new ArcaError('BAD_REQUEST', message, details);
export const notFound = (message: string) => new ArcaError('NOT_FOUND', message);
export const conflict = (message: string) => new ArcaError('CONFLICT', message);
export const forbidden = (message = 'Forbidden') => new ArcaError('FORBIDDEN', message);
export const unauthorized = (message = 'Unauthorized') => new ArcaError('UNAUTHORIZED', message);

/**
 * The one refusal of an overwrite for want of the delete permission, on every deploy route
 * (generic, Maven, PyPI, npm tarballs, OCI tags), in the seed product's wording: clients
 * match it, e.g. `twine upload --skip-existing` skips a file on a 403 whose body contains
 * "overwrite artifact".
 */
export function overwriteRefused(repoKey: string, path: string, user: string): ArcaError {
  return new ArcaError('FORBIDDEN', `Not enough permissions to delete/overwrite artifact '${repoKey}:${path}' (user '${user}' needs DELETE permission).`);
}

/** Maps low-level file-system errors to catalogue errors; anything else is returned as is. */
export function fromSystemError(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ArcaError('STORAGE_FULL', `Not enough space to store ${what}`, undefined, err);
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new ArcaError('UNAVAILABLE', `Storage is not writable while storing ${what}`, undefined, err);
  }
  return err;
}
