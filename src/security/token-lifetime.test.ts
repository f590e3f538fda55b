import { describe, expect, it } from 'vitest';
import { isArcaError } from '../core/errors.js';
import { DEFAULT_EXPIRES_IN, TokenLifetimePolicy } from './token-lifetime.js';

const policy = new TokenLifetimePolicy(86_400);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isArcaError(err) ? err.code : 'other';
  }
}

describe('token lifetime policy', () => {
  it('lets administrators ask for any lifetime, including never', () => {
    expect(policy.forCreate({ requested: 0, admin: true })).toBe(0);
    expect(policy.forCreate({ requested: 100 * 365 * 86_400, admin: true })).toBe(100 * 365 * 86_400);
    expect(policy.forCreate({ requested: undefined, admin: true })).toBe(DEFAULT_EXPIRES_IN);
  });

  it('caps non-admins, refusing never-expiring and over-long requests', () => {
    expect(policy.forCreate({ requested: 86_400, admin: false })).toBe(86_400);
    expect(codeOf(() => policy.forCreate({ requested: 86_401, admin: false }))).toBe('BAD_REQUEST');
    expect(codeOf(() => policy.forCreate({ requested: 0, admin: false }))).toBe('FORBIDDEN');
    expect(codeOf(() => policy.forCreate({ requested: -1, admin: false }))).toBe('BAD_REQUEST');
    expect(new TokenLifetimePolicy(60).forCreate({ requested: undefined, admin: false })).toBe(60);
  });

  it('names the field and the maximum in the 400', () => {
    try {
      policy.forCreate({ requested: 4_000_000_000, admin: false });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain("'expires_in'");
      expect((err as Error).message).toContain('86400');
    }
  });

  it('shortens what Arca mints itself instead of refusing it', () => {
    expect(policy.forCreate({ requested: 30 * 86_400, admin: false, clamp: true })).toBe(86_400);
    expect(policy.forCreate({ requested: 0, admin: false, clamp: true })).toBe(86_400);
  });

  it('never lets a refresh outlive the policy of the user as they are now', () => {
    expect(policy.forRefresh({ requested: undefined, inherited: 0, admin: false })).toBe(86_400);
    expect(policy.forRefresh({ requested: undefined, inherited: 10 * 86_400, admin: false })).toBe(86_400);
    expect(policy.forRefresh({ requested: undefined, inherited: 600, admin: false })).toBe(600);
    expect(policy.forRefresh({ requested: undefined, inherited: 0, admin: true })).toBe(0);
    expect(codeOf(() => policy.forRefresh({ requested: 0, inherited: 600, admin: false }))).toBe('FORBIDDEN');
    expect(codeOf(() => policy.forRefresh({ requested: 86_401, inherited: 600, admin: false }))).toBe('BAD_REQUEST');
  });

  it('refuses a maximum that is not a positive integer', () => {
    expect(() => new TokenLifetimePolicy(0)).toThrow(/positive integer/);
    expect(() => new TokenLifetimePolicy(1.5)).toThrow(/positive integer/);
  });
});
