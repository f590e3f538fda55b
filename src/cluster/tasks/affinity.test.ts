import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/helpers/databases.js';
import { homeLayout } from '../../config/home.js';
import { resolveNodeIdentity } from '../../config/node-identity.js';
import { SystemConfig } from '../../config/system-yaml.js';
import { FakeClock } from '../../core/clock.js';
import { NodeRegistry } from '../node-registry.js';
import { decideEligibility, readPeers, type PeerAffinity, type SelfAffinity } from './affinity.js';

const self = (extra: Partial<SelfAffinity> = {}): SelfAffinity => ({ nodeId: 'me', taskAffinity: 'any', explicit: true, primary: false, ...extra });
const peer = (id: string, extra: Partial<PeerAffinity> = {}): PeerAffinity => ({ id, state: 'RUNNING', role: 'MEMBER', taskAffinity: 'any', explicit: true, ...extra });

describe('task affinity', () => {
  it('follows each node’s taskAffinity (any by default)', () => {
    expect(decideEligibility(self(), [peer('b')])).toMatchObject({ eligible: true, mode: 'affinity' });
    expect(decideEligibility(self({ taskAffinity: 'none' }), [peer('b')])).toMatchObject({ eligible: false, mode: 'affinity' });
    expect(decideEligibility(self({ explicit: false }), [peer('b', { explicit: false })])).toMatchObject({ eligible: true, reason: 'taskAffinity is any (the default)' });
  });

  it('with only legacy primary flags, only the primary is eligible', () => {
    const legacy = [peer('p', { role: 'PRIMARY', explicit: false }), peer('m', { explicit: false })];
    expect(decideEligibility(self({ explicit: false }), legacy)).toMatchObject({ eligible: false, mode: 'legacy-primary', reason: expect.stringContaining('only the primary (p)') });
    expect(decideEligibility(self({ explicit: false, primary: true, nodeId: 'p' }), legacy)).toMatchObject({ eligible: true, mode: 'legacy-primary' });
    // A crashed primary keeps the rule; one stopped cleanly does not.
    expect(decideEligibility(self({ explicit: false }), [peer('p', { role: 'PRIMARY', explicit: false, state: 'UNAVAILABLE' })]).eligible).toBe(false);
    expect(decideEligibility(self({ explicit: false }), [peer('p', { role: 'PRIMARY', explicit: false, state: 'STOPPED' })]).eligible).toBe(true);
  });

  it('any explicit taskAffinity in the cluster ends the legacy rule', () => {
    const peers = [peer('p', { role: 'PRIMARY', explicit: false }), peer('x', { explicit: true })];
    expect(decideEligibility(self({ explicit: false }), peers)).toMatchObject({ eligible: true, mode: 'affinity' });
    expect(decideEligibility(self({ explicit: true, taskAffinity: 'none' }), [peer('p', { role: 'PRIMARY', explicit: false })])).toMatchObject({ eligible: false, mode: 'affinity' });
  });
});

describe('task affinity from the configuration', () => {
  it('knows whether taskAffinity was set (system.yaml or environment) or defaulted, and the registry records it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'arca-affinity-'));
    const layout = homeLayout(home);
    const yaml = join(home, 'system.yaml');
    try {
      writeFileSync(yaml, 'shared:\n  node:\n    id: legacy\n    primary: true\n');
      const legacy = resolveNodeIdentity(layout, SystemConfig.load(yaml, {}));
      expect(legacy).toMatchObject({ taskAffinity: 'any', taskAffinityExplicit: false, primary: true });
      expect(resolveNodeIdentity(layout, SystemConfig.load(yaml, { JF_SHARED_NODE_TASKAFFINITY: 'none' }))).toMatchObject({ taskAffinity: 'none', taskAffinityExplicit: true });
      writeFileSync(yaml, 'shared:\n  node:\n    id: modern\n    taskAffinity: any\n');
      const modern = resolveNodeIdentity(layout, SystemConfig.load(yaml, {}));
      expect(modern.taskAffinityExplicit).toBe(true);

      const t = await openTestDatabase('sqlite');
      try {
        const version = { version: '1.0.0', revision: 'r', releaseDate: '2026-01-01T00:00:00Z' };
        for (const [identity, instanceId] of [[legacy, 'i-1'], [modern, 'i-2']] as const) {
          await new NodeRegistry(t.database, new FakeClock(), { ...identity, haEnabled: true }, version, { instanceId }).register();
        }
        expect((await readPeers(t.database.db)).map((p) => [p.id, p.role, p.explicit])).toEqual([
          ['legacy', 'PRIMARY', false],
          ['modern', 'MEMBER', true],
        ]);
      } finally {
        await t.drop();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
