import { ADMIN_AUTH, ADMIN_PASSWORD, startTestNode } from '../../node/testing/test-node.js';
import type { ConformanceNode } from './format-conformance.js';

/** An in-process test node listening on 127.0.0.1 (a remote repository needs a real upstream). */
export async function startListeningNode(): Promise<ConformanceNode & { ctx: Awaited<ReturnType<typeof startTestNode>>['ctx'] }> {
  const node = await startTestNode();
  await node.app.listen({ port: 0, host: '127.0.0.1' });
  const address = node.app.server.address();
  if (!address || typeof address === 'string') throw new Error('the test node is not listening on TCP');
  return {
    ctx: node.ctx,
    base: `http://127.0.0.1:${address.port}/artifactory`,
    auth: ADMIN_AUTH,
    user: 'admin',
    password: ADMIN_PASSWORD,
    close: () => node.close(),
  };
}
