/** The bare `node:http` server of (a): what the runtime itself reaches on this machine. */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './arca.js';
import { httpGet } from './http.js';
import { sleep, startDaemon, type Daemon } from './proc.js';

export interface CeilingServer {
  url: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** Starts the ceiling server with `workers` processes serving `file` at every path, once it answers. */
export async function startCeiling(o: { port: number; workers: number; file: string; logFile: string }): Promise<CeilingServer> {
  const fd = openSync(o.logFile, 'a');
  const daemon = startDaemon(process.execPath, [join(REPO_ROOT, 'bench', 'lib', 'ceiling-server.mjs'), String(o.port), String(o.workers), o.file], { logFd: fd });
  closeSync(fd);
  const url = `http://127.0.0.1:${o.port}`;
  for (let i = 0; i < 500; i++) {
    const r = await httpGet(`${url}/`).catch(() => undefined);
    if (r?.status === 200) return { url, daemon, stop: () => daemon.stop() };
    await sleep(10);
  }
  await daemon.stop();
  throw new Error('the node:http ceiling server did not answer within 5 s');
}
