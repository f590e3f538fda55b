import { ArcaError } from '../core/errors.js';

/** What a token acts with. */
export type AppliedScope = { kind: 'user' } | { kind: 'admin' } | { kind: 'groups'; groups: string[] };

export interface TokenScope {
  applied: AppliedScope;
  /** The scope string as stored in the token (`scp`) and returned to the client. */
  text: string;
}

export const DEFAULT_SCOPE = 'applied-permissions/user';

function groupList(v: string): string[] {
  return [...new Set(v.split(',').map((g) => g.trim().replace(/^"(.*)"$/, '$1')).filter((g) => g !== ''))];
}

/**
 * Parses a scope: `applied-permissions/user`, `applied-permissions/admin`,
 * `applied-permissions/groups:g1,g2`, or the 6.x forms `member-of-groups:*` (the user) and
 * `member-of-groups:g1,g2`. Other items (`api:*`, …) are kept as given and grant nothing.
 */
export function parseScope(scope: string | undefined): TokenScope {
  const items = (scope ?? '').split(/\s+/).filter((s) => s !== '');
  if (items.length === 0) return { applied: { kind: 'user' }, text: DEFAULT_SCOPE };
  let applied: AppliedScope | undefined;
  const set = (a: AppliedScope) => {
    if (applied) throw new ArcaError('BAD_REQUEST', "Invalid token request: 'scope' may name only one applied-permissions scope", { field: 'scope' });
    applied = a;
  };
  for (const item of items) {
    if (item === 'applied-permissions/user' || item === 'member-of-groups:*') set({ kind: 'user' });
    else if (item === 'applied-permissions/admin') set({ kind: 'admin' });
    else if (item.startsWith('applied-permissions/groups:') || item.startsWith('member-of-groups:')) {
      const groups = groupList(item.slice(item.indexOf(':') + 1));
      if (groups.length === 0) throw new ArcaError('BAD_REQUEST', "Invalid token request: 'scope' names no groups", { field: 'scope' });
      set({ kind: 'groups', groups });
    } else if (item.startsWith('applied-permissions/')) {
      throw new ArcaError('BAD_REQUEST', `Invalid token request: 'scope' has an unknown item '${item}'`, { field: 'scope' });
    }
  }
  return { applied: applied ?? { kind: 'user' }, text: items.join(' ') };
}
