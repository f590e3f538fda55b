/**
 * The start of every bench run: a temporary root (removed at exit unless kept), `stopAll`
 * (kill every child, remove the temporary directories), Ctrl-C handling, and an optional
 * time limit after which the run stops everything and exits with status 3.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { killEverythingSync, registerTempDir, removeTempDirs } from './proc.js';

export function startBenchRun(opts: {
  /** Name prefix of the temporary root, e.g. `arca-bench-npm-`. */
  prefix: string;
  tmpdir?: string;
  keepTmp?: boolean;
  limitSeconds?: number;
  log: (msg: string) => void;
}): { root: string; stopAll: () => void } {
  const root = mkdtempSync(join(opts.tmpdir ?? os.tmpdir(), opts.prefix));
  if (!opts.keepTmp) registerTempDir(root);
  const stopAll = () => {
    killEverythingSync();
    removeTempDirs();
  };
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  if (opts.limitSeconds !== undefined) {
    const deadline = setTimeout(() => {
      opts.log('the run exceeded its time limit');
      stopAll();
      process.exit(3);
    }, opts.limitSeconds * 1000);
    deadline.unref();
  }
  return { root, stopAll };
}
