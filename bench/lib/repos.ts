import { AUTH, type ArcaNode } from './arca.js';
import { request } from './http.js';

/** The body of an answer with one of the `ok` statuses; else an error naming `what`. */
export async function must(what: string, p: Promise<{ status: number; body: Buffer }>, ok = [200, 201, 204]): Promise<Buffer> {
  const r = await p;
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
  return r.body;
}

/**
 * The node's other worker processes learn of a configuration change within their poll: waits
 * until ten GETs of `url` in a row (each on a new connection, so spread over the workers)
 * answer 200.
 */
export async function onEveryWorker(what: string, url: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (let ok = 0; ok < 10; ) {
    const r = await request(url, { headers });
    ok = r.status === 200 ? ok + 1 : 0;
    if (Date.now() > deadline) throw new Error(`${what}: not on every worker within 15 s (last answer ${r.status})`);
    if (ok === 0) await new Promise((res) => setTimeout(res, 100));
  }
}

/** Creates a local repository as the admin, and waits until every worker of the node knows it. */
export async function createLocalRepo(node: ArcaNode, key: string, packageType: string): Promise<void> {
  await must(
    `create ${packageType} repository ${key}`,
    request(`${node.base}/api/repositories/${key}`, { method: 'PUT', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ rclass: 'local', packageType }) }),
  );
  await onEveryWorker(`repository ${key} visible`, `${node.base}/api/repositories/${key}`, { authorization: AUTH });
}
