import type { FormatHandler } from '../format-handler.js';

/**
 * Generic repositories: any file at any path, stored as it is. Every path is an immutable
 * artifact, nothing is merged, and deploys need no checks beyond the repository's patterns.
 */
export const genericHandler: FormatHandler = {
  packageTypes: ['generic'],
  classify: () => 'artifact',
};
