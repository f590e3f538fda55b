import type { ErrorRenderer } from '../../../http/error-renderers.js';

/** PyPI's plain text, the message also as the reason phrase (what pip and twine show). */
export const pypiRenderer: ErrorRenderer = {
  name: 'pypi',
  render: (e) => ({
    contentType: 'text/plain; charset=utf-8',
    body: `${e.message}\n`,
    reason: e.message.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300),
  }),
};
