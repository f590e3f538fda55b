import type { ErrorRenderer } from '../../../http/error-renderers.js';

/** ChartMuseum's body, `{"error":"…"}`, which helm plugins and scripts print. */
export const helmRenderer: ErrorRenderer = {
  name: 'helm',
  render: (e) => ({ contentType: 'application/json', body: JSON.stringify({ error: e.message }) }),
};
