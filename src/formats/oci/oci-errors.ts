import { ArcaError, type ErrorCode } from '../../core/errors.js';

/**
 * The error codes of the OCI Distribution Specification (v1.1, "Error Codes") that the
 * registry answers with, each with its default message and the catalogue code it stands
 * for. The catalogue code decides the HTTP status (http/error-mapper.ts); the OCI code is
 * what the registry's clients read in the body.
 */
export const OCI_ERROR_CODES = {
  BLOB_UNKNOWN: { arca: 'NOT_FOUND', text: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { arca: 'BAD_REQUEST', text: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { arca: 'NOT_FOUND', text: 'blob upload unknown to registry' },
  DIGEST_INVALID: { arca: 'BAD_REQUEST', text: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { arca: 'BAD_REQUEST', text: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { arca: 'BAD_REQUEST', text: 'manifest invalid' },
  MANIFEST_UNKNOWN: { arca: 'NOT_FOUND', text: 'manifest unknown to registry' },
  NAME_INVALID: { arca: 'BAD_REQUEST', text: 'invalid repository name' },
  NAME_UNKNOWN: { arca: 'NOT_FOUND', text: 'repository name not known to registry' },
  SIZE_INVALID: { arca: 'BAD_REQUEST', text: 'provided length did not match content length' },
  UNAUTHORIZED: { arca: 'UNAUTHORIZED', text: 'authentication required' },
  DENIED: { arca: 'FORBIDDEN', text: 'requested access to the resource is denied' },
  UNSUPPORTED: { arca: 'METHOD_NOT_ALLOWED', text: 'the operation is unsupported' },
} as const satisfies Record<string, { arca: ErrorCode; text: string }>;

export type OciErrorCode = keyof typeof OCI_ERROR_CODES;

/**
 * An error of the registry API: an OCI code, its message and optional detail. `code` names
 * another catalogue code where the spec answers this OCI code with another status (a
 * chunk out of order is BLOB_UPLOAD_INVALID answered as RANGE_NOT_SATISFIABLE).
 */
export class OciError extends ArcaError {
  readonly ociCode: OciErrorCode;
  readonly detail: unknown;

  constructor(ociCode: OciErrorCode, message?: string, opts: { detail?: unknown; code?: ErrorCode } = {}) {
    super(opts.code ?? OCI_ERROR_CODES[ociCode].arca, message ?? OCI_ERROR_CODES[ociCode].text);
    this.name = 'OciError';
    this.ociCode = ociCode;
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
