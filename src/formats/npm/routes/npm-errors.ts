import type { ErrorRenderer } from '../../../http/error-renderers.js';

/** npm's body: `{"error":"…"}`, which the npm client prints after the status line. */
export const npmRenderer: ErrorRenderer = {
  name: 'npm',
  render: (e) => ({ contentType: 'application/json', body: JSON.stringify({ error: e.message }) }),
};
