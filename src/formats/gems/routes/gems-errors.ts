import type { ErrorRenderer } from '../../../http/error-renderers.js';

/** RubyGems.org's plain text (what `gem push`, `gem yank` and bundler print). */
export const gemsRenderer: ErrorRenderer = {
  name: 'gems',
  render: (e) => ({ contentType: 'text/plain; charset=utf-8', body: e.message }),
};
