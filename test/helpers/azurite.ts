import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EmulatorProcess } from './emulator-process.js';
import { freePort } from './ports.js';

/** Azurite's built-in development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteServer {
  port: number;
  /** The blob endpoint with the account in the path: `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A real Azurite blob service (`azurite-blob`) in a child process on a free 127.0.0.1 port. */
export async function startAzurite(): Promise<AzuriteServer> {
  const dir = mkdtempSync(join(tmpdir(), 'arca-azurite-'));
  const port = await freePort();
  const bin = resolve('node_modules/.bin/azurite-blob');
  const args = ['--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry', '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir];
  const proc = new EmulatorProcess('azurite-blob', bin, args, port);
  await proc.start();
  return {
    port,
    endpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    dir,
    stop: () => proc.stop(),
    start: () => proc.start(),
    close: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
