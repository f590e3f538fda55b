import type { ErrorRenderer } from '../../../http/error-renderers.js';

/** Plain text: the go command prints the body of a 4xx answer as the server's response. */
export const goRenderer: ErrorRenderer = {
  name: 'go',
  render: (e) => ({ contentType: 'text/plain; charset=utf-8', body: `${e.message}\n` }),
};
