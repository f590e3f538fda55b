import { ArcaError } from '../core/errors.js';

/** Lifetime of a token when the request names none (the seed's default). */
export const DEFAULT_EXPIRES_IN = 3600;
/** Default longest lifetime of a token a non-admin gets: one year. */
export const DEFAULT_NON_ADMIN_MAX_EXPIRES_IN = 365 * 24 * 3600;
/** The system.yaml key that sets it (named in the 400 a longer request gets). */
export const NON_ADMIN_MAX_KEY = 'arca.token.nonAdminMaxExpiresInSecs';

export interface LifetimeRequest {
  /** Seconds as the client asked; undefined when it did not; 0 = never expires. */
  requested: number | undefined;
  /** Whether the user the lifetime is decided for is an administrator now. */
  admin: boolean;
  /** Shorten a lifetime above the policy instead of refusing it (for tokens Arca mints itself). */
  clamp?: boolean;
}

function checkInteger(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ArcaError('BAD_REQUEST', "Invalid token request: 'expires_in' must be a non-negative integer", { field: 'expires_in' });
  }
}

/**
 * Who may get how long a token. Administrators may ask for any lifetime, including 0 (never
 * expires); everyone else gets at most `nonAdminMax` seconds, and never a token that does
 * not expire. Decided for the caller when a token is created, and for the token's user as
 * they are now when it is refreshed.
 */
export class TokenLifetimePolicy {
  constructor(readonly nonAdminMax: number = DEFAULT_NON_ADMIN_MAX_EXPIRES_IN) {
    if (!Number.isSafeInteger(nonAdminMax) || nonAdminMax < 1) throw new RangeError(`${NON_ADMIN_MAX_KEY} must be a positive integer, got ${nonAdminMax}`);
  }

  /** The lifetime of a new token: the request, the default, or a 400/403 naming `expires_in`. */
  forCreate(r: LifetimeRequest): number {
    if (r.requested === undefined) return r.admin ? DEFAULT_EXPIRES_IN : Math.min(DEFAULT_EXPIRES_IN, this.nonAdminMax);
    checkInteger(r.requested);
    if (r.admin) return r.requested;
    if (r.requested === 0) {
      if (r.clamp) return this.nonAdminMax;
      throw new ArcaError('FORBIDDEN', "Only administrators may create tokens that never expire ('expires_in' = 0)", { field: 'expires_in' });
    }
    if (r.requested > this.nonAdminMax) {
      if (r.clamp) return this.nonAdminMax;
      throw new ArcaError(
        'BAD_REQUEST',
        `Invalid token request: 'expires_in' must be at most ${this.nonAdminMax} seconds for a non-admin user (${NON_ADMIN_MAX_KEY}), not ${r.requested}`,
        { field: 'expires_in', max: this.nonAdminMax },
      );
    }
    return r.requested;
  }

  /**
   * The lifetime of a refreshed token. A lifetime the client names is checked as for a new
   * token; one inherited from the old token (`inherited`, 0 = never) is shortened to what
   * the policy allows the user now, so a demoted administrator's token does not stay eternal.
   */
  forRefresh(r: LifetimeRequest & { inherited: number }): number {
    if (r.requested !== undefined) return this.forCreate({ requested: r.requested, admin: r.admin });
    return this.forCreate({ requested: r.inherited, admin: r.admin, clamp: true });
  }
}
