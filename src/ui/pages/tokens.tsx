import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { DataTable } from '../components/admin-list';
import { ErrorBox, Field, formatDate, Loading, Notice, Page } from '../components/common';
import { CopyButton } from '../components/copy-button';
import { ConfirmButton } from '../components/confirm-button';
import { useAction, useAsync } from '../components/hooks';
import { useUser } from '../session';
import '../styles/admin.css';

interface TokenInfo {
  token_id: string;
  subject: string;
  expiry?: number;
  issued_at: number;
  refreshable: boolean;
  description?: string;
}

const TOKENS = '/access/api/v1/tokens';

/** Seconds since the epoch (JWT) or milliseconds, as a date. */
const fromEpoch = (v: number | undefined) => (v === undefined ? '' : formatDate(v < 1e12 ? v * 1000 : v));

/** The expiry presets (seconds; 0 = never expires, for administrators only). */
const PRESETS: Array<{ secs: number; label: string }> = [
  { secs: 3600, label: '1 hour' },
  { secs: 86_400, label: '1 day' },
  { secs: 30 * 86_400, label: '30 days' },
  { secs: 365 * 86_400, label: '1 year' },
  { secs: 0, label: 'Never' },
];

type ScopeKind = 'user' | 'groups' | 'admin';

function CreateToken({ maxExpiresIn, onCreated }: { maxExpiresIn: number | null | undefined; onCreated: () => void }) {
  const user = useUser();
  const [form, setForm] = useState({ description: '', expiresIn: 3600, username: '', refreshable: false, scope: 'user' as ScopeKind, groups: [] as string[] });
  const [token, setToken] = useState<{ value: string; expiresIn: number; scope: string } | undefined>();
  const action = useAction();
  // Presets within the caller's limit: a non-admin never gets "never" nor more than the maximum.
  const presets = PRESETS.filter((p) => (maxExpiresIn === null ? true : p.secs !== 0 && (maxExpiresIn === undefined || p.secs <= maxExpiresIn)));
  const scopeText = form.scope === 'admin' ? 'applied-permissions/admin' : form.scope === 'groups' ? `applied-permissions/groups:${form.groups.join(',')}` : 'applied-permissions/user';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      if (form.scope === 'groups' && form.groups.length === 0) throw new Error('Choose at least one group for a group-scoped token.');
      const body: Record<string, unknown> = { description: form.description, expires_in: form.expiresIn, refreshable: form.refreshable, scope: scopeText };
      if (user.admin && form.username.trim()) body.username = form.username.trim();
      const res = await api<{ access_token: string; expires_in?: number; scope: string }>(TOKENS, { json: body });
      setToken({ value: res.access_token, expiresIn: res.expires_in ?? 0, scope: res.scope });
      onCreated();
      return `Token created${form.description ? ` (${form.description})` : ''}.`;
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-token-title">
      <h2 id="new-token-title">New access token</h2>
      <Field id="token-description" label="Description">
        <input id="token-description" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
      </Field>
      <fieldset>
        <legend>Expires after</legend>
        {presets.map((p) => (
          <label key={p.secs} className="inline">
            <input type="radio" name="token-expiry" checked={form.expiresIn === p.secs} onChange={() => setForm({ ...form, expiresIn: p.secs })} />
            {p.label}
          </label>
        ))}
        {maxExpiresIn !== null && maxExpiresIn !== undefined && <small className="muted">Tokens of non-administrators last at most {Math.round(maxExpiresIn / 86_400)} days here.</small>}
      </fieldset>
      <fieldset>
        <legend>Acts with</legend>
        <label className="inline">
          <input type="radio" name="token-scope" checked={form.scope === 'user'} onChange={() => setForm({ ...form, scope: 'user' })} />
          {user.admin && form.username.trim() ? 'that user’s permissions' : 'my permissions'}
        </label>
        {user.groups.length > 0 && !form.username.trim() && (
          <label className="inline">
            <input type="radio" name="token-scope" checked={form.scope === 'groups'} onChange={() => setForm({ ...form, scope: 'groups' })} />
            only some of my groups
          </label>
        )}
        {user.admin && (
          <label className="inline">
            <input type="radio" name="token-scope" checked={form.scope === 'admin'} onChange={() => setForm({ ...form, scope: 'admin' })} />
            administrator rights
          </label>
        )}
        {form.scope === 'groups' && (
          <div role="group" aria-label="Groups of the token">
            {user.groups.map((g) => (
              <label key={g} className="inline">
                <input type="checkbox" checked={form.groups.includes(g)} onChange={(e) => setForm({ ...form, groups: e.target.checked ? [...form.groups, g] : form.groups.filter((x) => x !== g) })} />
                {g}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      {user.admin && (
        <Field id="token-user" label="For user" hint={`Empty: for you (${user.name})`}>
          <input id="token-user" aria-describedby="token-user-hint" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value, scope: form.scope === 'groups' ? 'user' : form.scope })} />
        </Field>
      )}
      <label className="inline">
        <input type="checkbox" checked={form.refreshable} onChange={(e) => setForm({ ...form, refreshable: e.target.checked })} />
        Refreshable
      </label>
      <p className="toolbar">
        <button type="submit" className="primary" disabled={action.busy}>
          Create token
        </button>
      </p>
      <ErrorBox error={action.error} />
      <Notice>{action.message}</Notice>
      {token && (
        <div className="card" data-testid="new-token">
          <p>
            <strong>Copy the token now: it is not shown again.</strong> Scope {token.scope}; {token.expiresIn ? `expires in ${PRESETS.find((p) => p.secs === token.expiresIn)?.label ?? `${token.expiresIn} s`}` : 'never expires'}.
          </p>
          <div className="token-value">
            <span className="sr-only">Access token:</span>
            <code id="token-value">{token.value}</code>
            <CopyButton text={token.value} label="Copy token" />
          </div>
        </div>
      )}
    </form>
  );
}

/** The caller's access tokens (all tokens for administrators): create and revoke. */
export default function TokensPage() {
  const tokens = useAsync((signal) => api<{ tokens: TokenInfo[]; maxExpiresIn?: number | null }>(TOKENS, { signal }), 'tokens');
  return (
    <Page title="Access tokens">
      {tokens.data ? <CreateToken maxExpiresIn={tokens.data.maxExpiresIn} onCreated={tokens.reload} /> : <div className="skeleton" aria-hidden="true" />}
      <ErrorBox error={tokens.error} />
      <Loading when={tokens.loading && !tokens.data} />
      {tokens.data && (
        <DataTable
          label="Access tokens"
          items={tokens.data.tokens}
          headers={['ID', 'Subject', 'Description', 'Issued', 'Expires', 'Refreshable']}
          empty="No tokens."
          row={(t) => (
            <tr key={t.token_id}>
              <td className="mono">{t.token_id}</td>
              <td>{t.subject}</td>
              <td>{t.description}</td>
              <td>{fromEpoch(t.issued_at)}</td>
              <td>{t.expiry ? fromEpoch(t.expiry) : 'never'}</td>
              <td>{t.refreshable ? 'yes' : 'no'}</td>
              <td>
                <ConfirmButton
                  label="Revoke"
                  confirmLabel="Yes, revoke"
                  accessibleLabel={`Revoke token ${t.token_id}`}
                  question="Revoke this token?"
                  onConfirm={async () => {
                    await api(`${TOKENS}/${encodeURIComponent(t.token_id)}`, { method: 'DELETE' });
                    tokens.reload();
                  }}
                />
              </td>
            </tr>
          )}
        />
      )}
    </Page>
  );
}
