/**
 * The body of an error answer in each protocol's wire shape. The status, code, message and
 * headers come from the one mapper (error-mapper.ts); a renderer only shapes the body and
 * may add a header or a reason phrase its clients read.
 */
import type { MappedError } from './error-mapper.js';

export interface RenderedError {
  contentType: string;
  body: string;
  /** Headers of the protocol, added to the mapper's. */
  headers?: Record<string, string>;
  /** The status line's reason phrase, where the protocol's clients show it. */
  reason?: string;
}

export interface ErrorRenderer {
  /** Names the protocol in the log line of an internal error. */
  readonly name: string;
  render(error: MappedError): RenderedError;
}

/** The JFrog REST API's body: `{"errors":[{"status","message"}]}`. */
export const jfrogRenderer: ErrorRenderer = {
  name: 'jfrog',
  render: (e) => ({ contentType: 'application/json', body: JSON.stringify({ errors: [{ status: e.status, message: e.message }] }) }),
};
