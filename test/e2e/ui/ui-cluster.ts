import { NGINX, TestCluster } from '../harness/cluster.js';
import { startDedicatedPostgres } from '../harness/dedicated-pg.js';
import { chromiumInstalled, CHROMIUM } from './browser.js';

/**
 * What the web UI's browser tests run against, as the issue asks: nginx in front of three
 * nodes sharing a dedicated PostgreSQL (no license manager; the nodes start one by one).
 */
export interface UiCluster {
  /** `http://127.0.0.1:{nginx port}`: the balancer. */
  url: string;
  cluster: TestCluster;
  stop(): Promise<void>;
}

/** Why the browser tests cannot run here (printed by each file), or undefined. */
export const uiSkipReason: string | undefined = !NGINX ? 'nginx is not installed (apt-get install nginx)' : !chromiumInstalled() ? `no chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;

export async function startUiCluster(size = 3, nodeEnv: Record<string, string> = {}): Promise<UiCluster> {
  const pg = await startDedicatedPostgres();
  const cluster = new TestCluster({ type: 'postgresql', url: pg.url }, size, nodeEnv);
  try {
    await cluster.create();
    await cluster.startAll();
    await cluster.startNginx();
  } catch (err) {
    await cluster.destroy().catch(() => undefined);
    await pg.destroy().catch(() => undefined);
    throw err;
  }
  return {
    url: cluster.lbUrl,
    cluster,
    async stop() {
      await cluster.destroy();
      await pg.destroy();
    },
  };
}
