import { createHash, randomBytes } from 'node:crypto';
import { ADMIN_AUTH } from '../../helpers/credentials.js';

export interface Deployed {
  path: string;
  sha256: string;
}

export const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Deploys `count` small random artifacts through `base` with `concurrency` clients; each
 * acknowledged (201) deploy is appended to `sink` as it happens.
 */
export async function deployMany(
  base: string,
  repo: string,
  count: number,
  concurrency: number,
  opts: { sink?: Deployed[]; onProgress?: (done: number) => void; prefix?: string } = {},
): Promise<{ ok: Deployed[]; failed: number }> {
  const ok: Deployed[] = opts.sink ?? [];
  const onProgress = opts.onProgress;
  const prefix = opts.prefix ?? 'load';
  let failed = 0;
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const body = randomBytes(1024 + (i % 7) * 1000);
      const path = `${prefix}/${Math.floor(i / 100)}/artifact-${i}.bin`;
      try {
        const res = await fetch(`${base}/artifactory/${repo}/${path}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body });
        await res.arrayBuffer();
        if (res.status === 201) ok.push({ path, sha256: sha256(body) });
        else failed++;
      } catch {
        failed++;
      }
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, failed };
}

/** GETs random already-deployed artifacts through `base` until stopped; counts failures. */
export function readLoop(base: string, repo: string, deployed: Deployed[], concurrency = 4) {
  let stopped = false;
  const stats = { ok: 0, failed: 0, wrong: 0, errors: [] as string[] };
  const worker = async () => {
    while (!stopped) {
      if (deployed.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const d = deployed[Math.floor(Math.random() * deployed.length)];
      try {
        const res = await fetch(`${base}/artifactory/${repo}/${d.path}`, { headers: { authorization: ADMIN_AUTH } });
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200) {
          stats.failed++;
          if (stats.errors.length < 5) stats.errors.push(`${res.status} ${d.path}`);
        } else if (sha256(body) !== d.sha256) stats.wrong++;
        else stats.ok++;
      } catch (err) {
        stats.failed++;
        if (stats.errors.length < 5) stats.errors.push(`${(err as Error).message} ${d.path}`);
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    stats,
    async stop() {
      stopped = true;
      await running;
      return stats;
    },
  };
}

/** Reads every deployed artifact from one node directly; returns the paths that were wrong or missing. */
export async function verifyOn(nodeUrl: string, repo: string, deployed: Deployed[]): Promise<string[]> {
  const bad: string[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= deployed.length) return;
      const d = deployed[i];
      const res = await fetch(`${nodeUrl}/artifactory/${repo}/${d.path}`, { headers: { authorization: ADMIN_AUTH } });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || sha256(body) !== d.sha256 || res.headers.get('x-checksum-sha256') !== d.sha256) bad.push(`${d.path} (${res.status})`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return bad;
}
