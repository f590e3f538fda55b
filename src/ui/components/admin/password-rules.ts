/** The password policy's rules as the user form checks them: the same tests as the server's (security/password-policy.ts). */

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
