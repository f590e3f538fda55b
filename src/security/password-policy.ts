import { ArcaError } from '../core/errors.js';

/** The longest password accepted (the JSON field's limit). */
export const MAX_PASSWORD_LENGTH = 1024;

/** The character classes a password may mix, in the order the UI lists them. */
export const CHARACTER_CLASSES = [
  { id: 'lower', label: 'a lower-case letter', test: (c: string) => /\p{Ll}/u.test(c) },
  { id: 'upper', label: 'an upper-case letter', test: (c: string) => /\p{Lu}/u.test(c) },
  { id: 'digit', label: 'a digit', test: (c: string) => /\p{Nd}/u.test(c) },
  { id: 'other', label: 'another character (symbol, space…)', test: (c: string) => !/[\p{Ll}\p{Lu}\p{Nd}]/u.test(c) },
] as const;

/**
 * The rules a new internal password must meet (`arca.password.minLength`, `arca.password.minClasses`
 * in system.yaml), shown by `GET /api/security/passwordPolicy` so the UI checks the same rules
 * before it sends; the server stays the authority. The defaults keep the seed's behaviour (any
 * non-empty password); an administrator tightens them.
 */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** How many of CHARACTER_CLASSES the password must use (1–4). */
  minClasses: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 1, maxLength: MAX_PASSWORD_LENGTH, minClasses: 1 };

export function passwordPolicy(minLength: number, minClasses: number): PasswordPolicy {
  if (!Number.isSafeInteger(minLength) || minLength < 1 || minLength > MAX_PASSWORD_LENGTH) throw new RangeError(`arca.password.minLength must be a whole number from 1 to ${MAX_PASSWORD_LENGTH}, got ${minLength}`);
  if (!Number.isSafeInteger(minClasses) || minClasses < 1 || minClasses > CHARACTER_CLASSES.length) throw new RangeError(`arca.password.minClasses must be a whole number from 1 to ${CHARACTER_CLASSES.length}, got ${minClasses}`);
  return { minLength, maxLength: MAX_PASSWORD_LENGTH, minClasses };
}

/** What `password` lacks under `policy` (empty when it passes). */
export function passwordProblems(password: string, policy: PasswordPolicy): string[] {
  const out: string[] = [];
  const length = [...password].length;
  if (length < policy.minLength) out.push(`at least ${policy.minLength} characters`);
  if (length > policy.maxLength) out.push(`at most ${policy.maxLength} characters`);
  const chars = [...password];
  const used = CHARACTER_CLASSES.filter((k) => chars.some((c) => k.test(c))).length;
  if (used < policy.minClasses) out.push(`${policy.minClasses} of: ${CHARACTER_CLASSES.map((k) => k.label).join(', ')}`);
  return out;
}

/** Throws the 400 of a password that breaks the policy, naming every rule it misses. */
export function checkPassword(password: string, policy: PasswordPolicy): void {
  const problems = passwordProblems(password, policy);
  if (problems.length > 0) {
    throw new ArcaError('BAD_REQUEST', `Invalid user: 'password' does not meet the password policy: it needs ${problems.join('; ')}`, { field: 'password' });
  }
}
