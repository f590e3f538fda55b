import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { DataTable } from '../components/admin-list';
import { ErrorBox, Field, formatDate, Loading, Page } from '../components/common';
import { ConfirmButton } from '../components/confirm-button';
import { useAction, useAsync } from '../components/hooks';
import { useUser } from '../session';

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

function CreateToken({ onCreated }: { onCreated: () => void }) {
  const user = useUser();
  const [form, setForm] = useState({ description: '', expiresIn: '3600', username: '', refreshable: false });
  const [token, setToken] = useState('');
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body: Record<string, unknown> = { description: form.description, expires_in: Number(form.expiresIn), refreshable: form.refreshable };
      if (user.admin && form.username.trim()) body.username = form.username.trim();
      const res = await api<{ access_token: string }>(TOKENS, { json: body });
      setToken(res.access_token);
      onCreated();
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-token-title">
      <h2 id="new-token-title">New access token</h2>
      <Field id="token-description" label="Description">
        <input id="token-description" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
      </Field>
      <Field id="token-expires" label="Expires in (seconds)" hint="0 for a token that does not expire (if allowed)">
        <input id="token-expires" type="number" min={0} value={form.expiresIn} onChange={(e) => setForm({ ...form, expiresIn: e.target.value })} />
      </Field>
      {user.admin && (
        <Field id="token-user" label="For user" hint={`Empty: for you (${user.name})`}>
          <input id="token-user" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
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
      {token && (
        <div role="status">
          <p>Copy the token now: it is not shown again.</p>
          <label htmlFor="token-value">Access token</label>
          <textarea id="token-value" readOnly value={token} rows={3} onFocus={(e) => e.target.select()} />
        </div>
      )}
    </form>
  );
}

/** The caller's access tokens (all tokens for administrators): create and revoke. */
export default function TokensPage() {
  const tokens = useAsync((signal) => api<{ tokens: TokenInfo[] }>(TOKENS, { signal }), 'tokens');
  return (
    <Page title="Access tokens">
      <CreateToken onCreated={tokens.reload} />
      <ErrorBox error={tokens.error} />
      <Loading when={tokens.loading && !tokens.data} />
      {tokens.data && (
        <DataTable
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
