// Moved to a testing folder in src (test support in src never imports test/); re-exported for the suites that import it here.
export { freePort } from '../../src/core/testing/ports.js';
