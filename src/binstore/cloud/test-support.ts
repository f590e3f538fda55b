import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.js';
import type { BinaryProvider } from '../binary-provider.js';
import type { BuildContext, ProviderNode, ProviderType } from '../chain/types.js';

/** Test support for the cloud providers: a BuildContext on a temp data dir and a node builder. */
export interface CloudTestContext {
  ctx: BuildContext;
  dataDir: string;
  warnings: string[];
  /** Staging files of a provider element (its `<dataDir>/tmp/<id>` folder). */
  stagingOf(id: string): string[];
  remove(): void;
}

export function cloudTestContext(): CloudTestContext {
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-cloud-data-'));
  const warnings: string[] = [];
  const ctx: BuildContext = {
    dataDir,
    nodeId: 'cloud-test',
    clock: systemClock,
    log: { info: () => undefined, warn: (_o, msg) => void warnings.push(String(msg)), error: (_o, msg) => void warnings.push(String(msg)) },
    peers: async () => [],
    nodeSecret: Buffer.alloc(32, 7),
    build: async () => {
      throw new Error('cloud providers are leaves: nothing to build below them');
    },
  };
  return {
    ctx,
    dataDir,
    warnings,
    stagingOf: (id) => {
      try {
        return readdirSync(join(dataDir, 'tmp', id));
      } catch {
        return [];
      }
    },
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Builds one provider element of `type` with these parameters, as the chain builder would. */
export function buildLeaf(type: ProviderType, id: string, params: Record<string, string>, ctx: BuildContext): Promise<BinaryProvider> {
  const node: ProviderNode = { id, type: type.type, params, explicit: Object.keys(params), subProviders: [] };
  return type.create({ node, ctx, subs: [] });
}
