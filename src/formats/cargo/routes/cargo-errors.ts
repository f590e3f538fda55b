import type { ErrorRenderer } from '../../../http/error-renderers.js';

/** Cargo's body, `{"errors":[{"detail":"…"}]}`: cargo prints each detail after the status. */
export const cargoRenderer: ErrorRenderer = {
  name: 'cargo',
  render: (e) => ({ contentType: 'application/json', body: JSON.stringify({ errors: [{ detail: e.message }] }) }),
};
