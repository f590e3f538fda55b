// Moved to a testing folder in src (test support in src never imports test/); re-exported for the suites and benches that import it here.
export { ADMIN_AUTH, ADMIN_PASSWORD, basic } from '../../src/node/testing/credentials.js';
