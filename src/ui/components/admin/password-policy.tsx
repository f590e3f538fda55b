import { api } from '../../api';
import { useAsync } from '../hooks';
import { policyRules, type PasswordPolicy } from './password-rules';

export { policyProblem, type PasswordPolicy } from './password-rules';
import '../../styles/admin.css';

export function usePasswordPolicy() {
  return useAsync((signal) => api<PasswordPolicy>('/artifactory/api/security/passwordPolicy', { signal }), 'password-policy');
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
