import { ArcaError, type ErrorCode } from '../../core/errors.js';

/**
 * The error codes of the OCI Distribution Specification (v1.1, "Error Codes"), with the
 * status each one is answered with, and the catalogue code it stands for elsewhere (so an
 * `OciError` caught outside the registry routes still maps to a sensible status).
 */
export const OCI_ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, arca: 'NOT_FOUND', text: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, arca: 'BAD_REQUEST', text: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, arca: 'NOT_FOUND', text: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, arca: 'BAD_REQUEST', text: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, arca: 'BAD_REQUEST', text: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, arca: 'BAD_REQUEST', text: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, arca: 'NOT_FOUND', text: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, arca: 'BAD_REQUEST', text: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, arca: 'NOT_FOUND', text: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, arca: 'BAD_REQUEST', text: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, arca: 'UNAUTHORIZED', text: 'authentication required' },
  DENIED: { status: 403, arca: 'FORBIDDEN', text: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, arca: 'METHOD_NOT_ALLOWED', text: 'the operation is unsupported' },
  TOO_MANY_REQUESTS: { status: 429, arca: 'UNAVAILABLE', text: 'too many requests' },
} as const satisfies Record<string, { status: number; arca: ErrorCode; text: string }>;

export type OciErrorCode = keyof typeof OCI_ERROR_CODES;

/** An error of the registry API: an OCI code, its message, optional detail, optional status override. */
export class OciError extends ArcaError {
  readonly ociCode: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;

  constructor(ociCode: OciErrorCode, message?: string, opts: { detail?: unknown; status?: number } = {}) {
    super(OCI_ERROR_CODES[ociCode].arca, message ?? OCI_ERROR_CODES[ociCode].text);
    this.name = 'OciError';
    this.ociCode = ociCode;
    this.status = opts.status ?? OCI_ERROR_CODES[ociCode].status;
    this.detail = opts.detail;
  }
}

/** The OCI error envelope: `{"errors":[{"code","message","detail"}]}`. */
export function ociErrorBody(code: string, message: string, detail?: unknown): { errors: { code: string; message: string; detail?: unknown }[] } {
  const entry: { code: string; message: string; detail?: unknown } = { code, message };
  if (detail !== undefined) entry.detail = detail;
  return { errors: [entry] };
}

/** The OCI code for a catalogue error raised by shared code (auth, repositories, storage). */
export function ociCodeOf(code: ErrorCode): string {
  switch (code) {
    case 'UNAUTHORIZED':
    case 'LOCKED_OUT':
      return 'UNAUTHORIZED';
    case 'FORBIDDEN':
      return 'DENIED';
    case 'NOT_FOUND':
    case 'REPO_NOT_FOUND':
      return 'NAME_UNKNOWN';
    case 'ITEM_NOT_FOUND':
      return 'BLOB_UNKNOWN';
    case 'INVALID_PATH':
      return 'NAME_INVALID';
    case 'CHECKSUM_MISMATCH':
      return 'DIGEST_INVALID';
    case 'UPLOAD_ABORTED':
    case 'RANGE_NOT_SATISFIABLE':
      return 'BLOB_UPLOAD_INVALID';
    case 'PAYLOAD_TOO_LARGE':
      return 'SIZE_INVALID';
    case 'METHOD_NOT_ALLOWED':
    case 'NOT_IMPLEMENTED':
      return 'UNSUPPORTED';
    case 'BAD_REQUEST':
    case 'INVALID_CONFIG':
    case 'CONFLICT':
    case 'ALREADY_EXISTS':
    case 'CHECKSUM_DEPLOY_FAILED':
    case 'PRECONDITION_FAILED':
      return 'UNSUPPORTED';
    default:
      // Server-side failures (storage full, unavailable, internal): not a client error code.
      return 'UNKNOWN';
  }
}
