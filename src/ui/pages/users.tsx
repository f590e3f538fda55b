import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { adminRoute, EditDeleteButtons, EditForm, NewButton, SavedNotice, useFreshList } from '../components/admin-list';
import { policyProblem, PolicyRules, usePasswordPolicy } from '../components/admin/password-policy';
import { ErrorBox, Field, formatDate, Notice, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import { SortableTable, type Column } from '../components/sortable-table';
import { navigate, type PageProps } from '../router';
import '../styles/admin.css';

interface UserDetails {
  name: string;
  email?: string;
  admin?: boolean;
  groups?: string[];
  profileUpdatable?: boolean;
  disableUIAccess?: boolean;
  lastLoggedIn?: string;
  realm?: string;
}

const USERS = '/artifactory/api/security/users';
/** Details are read for at most this many users (one request each, a few at a time). */
const DETAILS_LIMIT = 500;

function UserForm({ name }: { name?: string }) {
  const existing = useAsync((signal) => (name ? api<UserDetails>(`${USERS}/${encodeURIComponent(name)}`, { signal }) : Promise.resolve(undefined)), `user:${name ?? ''}`);
  const groups = useAsync((signal) => api<Array<{ name: string }>>('/artifactory/api/security/groups', { signal }), 'groups');
  const policy = usePasswordPolicy();
  const [u, setU] = useState({ name: '', email: '', password: '', admin: false, groups: [] as string[], disableUIAccess: false });
  const action = useAction();
  const [ready, setReady] = useState(!name);
  useEffect(() => {
    const d = existing.data;
    if (d) setReady(true);
    if (d) setU({ name: d.name, email: d.email ?? '', password: '', admin: !!d.admin, groups: d.groups ?? [], disableUIAccess: !!d.disableUIAccess });
  }, [existing.data]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      // The same rules as the server's, so the user learns them here; the server checks again.
      if (u.password && policy.data) {
        const problem = policyProblem(u.password, policy.data);
        if (problem) throw new Error(problem);
      }
      const body: Record<string, unknown> = { email: u.email, admin: u.admin, groups: u.groups, disableUIAccess: u.disableUIAccess };
      if (u.password) body.password = u.password;
      if (name) await api(`${USERS}/${encodeURIComponent(name)}`, { method: 'POST', json: body });
      else await api(`${USERS}/${encodeURIComponent(u.name.trim())}`, { method: 'PUT', json: { ...body, name: u.name.trim() } });
      navigate(name ? `/admin/users?saved=${encodeURIComponent(name)}` : `/admin/users?created=${encodeURIComponent(u.name.trim())}`);
    });
  };

  return (
    <EditForm title={name ? `Edit user ${name}` : 'New user'} label="User" loadError={existing.error} ready={ready} editing={!!name} createLabel="Create user" cancelTo="/admin/users" action={action} onSubmit={submit}>
      {!name && (
        <Field id="user-name" label="User name">
          <input id="user-name" required value={u.name} onChange={(e) => setU({ ...u, name: e.target.value })} />
        </Field>
      )}
      <Field id="user-email" label="Email">
        <input id="user-email" type="email" required={!name} value={u.email} onChange={(e) => setU({ ...u, email: e.target.value })} />
      </Field>
      <Field id="user-password" label={name ? 'New password' : 'Password'} hint={name ? 'Leave empty to keep the current password' : undefined}>
        <input
          id="user-password"
          type="password"
          autoComplete="new-password"
          required={!name}
          aria-describedby={['user-password-rules', name ? 'user-password-hint' : ''].filter(Boolean).join(' ')}
          value={u.password}
          onChange={(e) => setU({ ...u, password: e.target.value })}
        />
      </Field>
      <PolicyRules id="user-password-rules" password={u.password} policy={policy.data} />
      <label className="inline">
        <input type="checkbox" checked={u.admin} onChange={(e) => setU({ ...u, admin: e.target.checked })} />
        Administrator
      </label>
      <label className="inline">
        <input type="checkbox" checked={u.disableUIAccess} onChange={(e) => setU({ ...u, disableUIAccess: e.target.checked })} />
        Disable UI access
      </label>
      <fieldset>
        <legend>Groups</legend>
        {(groups.data ?? []).length === 0 && <span className="muted">No groups.</span>}
        {(groups.data ?? []).map((g) => (
          <label key={g.name} className="inline">
            <input
              type="checkbox"
              checked={u.groups.includes(g.name)}
              onChange={(e) => setU({ ...u, groups: e.target.checked ? [...u.groups, g.name] : u.groups.filter((x) => x !== g.name) })}
            />
            {g.name}
          </label>
        ))}
      </fieldset>
    </EditForm>
  );
}

/** Each user's details, a few requests at a time, for the first DETAILS_LIMIT users. */
async function loadDetails(names: string[], signal: AbortSignal): Promise<Map<string, UserDetails>> {
  const out = new Map<string, UserDetails>();
  const queue = names.slice(0, DETAILS_LIMIT);
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined && !signal.aborted; n = queue.shift()) {
      try {
        out.set(n, await api<UserDetails>(`${USERS}/${encodeURIComponent(n)}`, { signal }));
      } catch {
        // A user deleted meanwhile: the row shows its name only.
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return out;
}

type Row = { name: string; realm?: string; details?: UserDetails; locked: boolean };

function UserList({ created, saved }: { created?: string; saved?: string }) {
  const { list: users, setExpect } = useFreshList<{ name: string; realm?: string }>(USERS, (x) => x.name, 'users', created);
  const names = (users.data ?? []).map((u) => u.name);
  const details = useAsync((signal) => (names.length ? loadDetails(names, signal) : Promise.resolve(new Map<string, UserDetails>())), `user-details:${names.join(',')}`);
  const locked = useAsync((signal) => api<string[]>('/artifactory/api/security/lockedUsers', { signal }), 'locked-users');
  const action = useAction();
  const rows: Row[] = (users.data ?? []).map((u) => ({ ...u, details: details.data?.get(u.name), locked: !!locked.data?.includes(u.name) }));
  const unlock = (name: string) =>
    void action.run(async () => {
      await api(`/artifactory/api/security/unlockUsers/${encodeURIComponent(name)}`, { method: 'POST' });
      locked.reload();
      return `User ${name} unlocked.`;
    });

  const columns: Column<Row>[] = [
    { id: 'name', header: 'Name', value: (r) => r.name, render: (r) => <span className="ellipsis" title={r.name}>{r.name}</span> },
    { id: 'email', header: 'Email', value: (r) => r.details?.email ?? '', secondary: true },
    { id: 'admin', header: 'Admin', value: (r) => (r.details?.admin ? 'yes' : r.details ? 'no' : '') },
    { id: 'groups', header: 'Groups', value: (r) => (r.details?.groups ?? []).join(', '), secondary: true },
    { id: 'last', header: 'Last login', value: (r) => r.details?.lastLoggedIn ?? '', render: (r) => (r.details ? formatDate(r.details.lastLoggedIn) || 'never' : ''), secondary: true },
    {
      id: 'state',
      header: 'State',
      value: (r) => (r.locked ? 'locked' : 'active'),
      render: (r) =>
        r.locked ? (
          <span className="row-actions">
            <span className="status-pill status-locked">locked</span>
            <button type="button" aria-label={`Unlock user ${r.name}`} disabled={action.busy} onClick={() => unlock(r.name)}>
              Unlock
            </button>
          </span>
        ) : (
          'active'
        ),
    },
    {
      id: 'actions',
      header: 'Actions',
      srOnlyHeader: true,
      render: (r) =>
        r.name === 'anonymous' ? null : (
          <EditDeleteButtons
            what="user"
            name={r.name}
            editTo={`/admin/users/edit/${encodeURIComponent(r.name)}`}
            onDelete={async () => {
              await api(`${USERS}/${encodeURIComponent(r.name)}`, { method: 'DELETE' });
              action.clear();
              setExpect({ absent: r.name });
            }}
          />
        ),
    },
  ];
  return (
    <Page title="Users" actions={<NewButton to="/admin/users/new">New user</NewButton>}>
      <SavedNotice what="User" created={created} saved={saved} />
      <ErrorBox error={users.error ?? locked.error ?? action.error} />
      <Notice>{action.message}</Notice>
      {!users.data ? (
        <div className="skeleton" aria-hidden="true" />
      ) : (
        <SortableTable items={rows} columns={columns} rowKey={(r) => r.name} caption="User list" testId="users-table" filterLabel="Filter users" initialSort={{ id: 'name', dir: 'ascending' }} />
      )}
    </Page>
  );
}

export default function UsersPage({ route }: PageProps) {
  return adminRoute(route, '/admin/users', (name) => <UserForm name={name} />, (created, saved) => <UserList created={created} saved={saved} />);
}
