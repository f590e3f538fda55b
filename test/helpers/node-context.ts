// Moved to a testing folder in src (test support in src never imports test/); re-exported for the suites that import it here.
export { ADMIN_AUTH, ADMIN_PASSWORD, basic, startTestNode, type TestNode } from '../../src/node/testing/test-node.js';
