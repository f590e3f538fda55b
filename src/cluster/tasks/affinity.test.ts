import { describe, expect, it } from 'vitest';
import { decideEligibility, type PeerAffinity, type SelfAffinity } from './affinity.js';

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
