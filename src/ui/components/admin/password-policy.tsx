import { api } from '../../api';
import { useAsync } from '../hooks';
import '../../styles/admin.css';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  minClasses: number;
  classes: Array<{ id: string; label: string }>;
}

/** The same tests as the server's (security/password-policy.ts), by class id. */
const CLASS_TESTS: Record<string, (c: string) => boolean> = {
  lower: (c) => /\p{Ll}/u.test(c),
  upper: (c) => /\p{Lu}/u.test(c),
  digit: (c) => /\p{Nd}/u.test(c),
  other: (c) => !/[\p{Ll}\p{Lu}\p{Nd}]/u.test(c),
};

export function usePasswordPolicy() {
  return useAsync((signal) => api<PasswordPolicy>('/artifactory/api/security/passwordPolicy', { signal }), 'password-policy');
}

/** Each rule of the policy and whether `password` meets it. */
export function policyRules(password: string, policy: PasswordPolicy): Array<{ text: string; met: boolean }> {
  const chars = [...password];
  const used = policy.classes.filter((k) => chars.some((c) => CLASS_TESTS[k.id]?.(c))).length;
  const rules = [{ text: `at least ${policy.minLength} character${policy.minLength === 1 ? '' : 's'}`, met: chars.length >= policy.minLength }];
  if (chars.length > policy.maxLength) rules.push({ text: `at most ${policy.maxLength} characters`, met: false });
  if (policy.minClasses > 1) rules.push({ text: `${policy.minClasses} of: ${policy.classes.map((k) => k.label).join(', ')}`, met: used >= policy.minClasses });
  return rules;
}

/** What a password lacks, for the refusal message ('' when it passes). */
export function policyProblem(password: string, policy: PasswordPolicy): string {
  const missing = policyRules(password, policy).filter((r) => !r.met);
  return missing.length ? `The password needs ${missing.map((r) => r.text).join('; ')}.` : '';
}

/** The rules under the password box, each marked met or not as the user types (the box points here with aria-describedby). */
export function PolicyRules({ id, password, policy }: { id: string; password: string; policy: PasswordPolicy | undefined }) {
  if (!policy) return null;
  return (
    <ul className="policy" id={id} aria-label="Password rules">
      {policyRules(password, policy).map((r) => (
        <li key={r.text} className={password ? (r.met ? 'met' : 'unmet') : undefined}>
          {password ? (r.met ? '✓ ' : '✗ ') : ''}
          {r.text}
        </li>
      ))}
    </ul>
  );
}
