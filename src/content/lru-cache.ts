/** Moved to core/ (a small utility security uses too); re-exported for the callers that import it from here. */
export { LruCache } from '../core/lru-cache.js';
