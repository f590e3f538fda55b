import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { adminRoute, DataTable, EditDeleteCell, EditForm, NewButton, useFreshList } from '../components/admin-list';
import { ErrorBox, Field, Loading, Notice, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import { navigate, type PageProps } from '../router';

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

function UserForm({ name }: { name?: string }) {
  const existing = useAsync((signal) => (name ? api<UserDetails>(`${USERS}/${encodeURIComponent(name)}`, { signal }) : Promise.resolve(undefined)), `user:${name ?? ''}`);
  const groups = useAsync((signal) => api<Array<{ name: string }>>('/artifactory/api/security/groups', { signal }), 'groups');
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
      const body: Record<string, unknown> = { email: u.email, admin: u.admin, groups: u.groups, disableUIAccess: u.disableUIAccess };
      if (u.password) body.password = u.password;
      if (name) await api(`${USERS}/${encodeURIComponent(name)}`, { method: 'POST', json: body });
      else await api(`${USERS}/${encodeURIComponent(u.name.trim())}`, { method: 'PUT', json: { ...body, name: u.name.trim() } });
      navigate(`/admin/users?created=${encodeURIComponent(name ?? u.name.trim())}`);
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
        <input id="user-password" type="password" autoComplete="new-password" required={!name} value={u.password} onChange={(e) => setU({ ...u, password: e.target.value })} />
      </Field>
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

function UserList({ created }: { created?: string }) {
  const { list: users, setExpect } = useFreshList<{ name: string; realm?: string }>(USERS, (x) => x.name, 'users', created);
  const [done, setDone] = useState('');
  return (
    <Page title="Users" actions={<NewButton to="/admin/users/new">New user</NewButton>}>
      <ErrorBox error={users.error} />
      <Notice>{done}</Notice>
      <Loading when={users.loading && !users.data} />
      {users.data && (
        <DataTable
          items={users.data}
          headers={['Name', 'Realm']}
          row={(u) => (
            <tr key={u.name}>
              <th scope="row">{u.name}</th>
              <td>{u.realm}</td>
              <EditDeleteCell
                what="user"
                name={u.name}
                editTo={`/admin/users/edit/${encodeURIComponent(u.name)}`}
                onDelete={async () => {
                  await api(`${USERS}/${encodeURIComponent(u.name)}`, { method: 'DELETE' });
                  setDone(`User ${u.name} deleted.`);
                  setExpect({ absent: u.name });
                }}
              />
            </tr>
          )}
        />
      )}
    </Page>
  );
}

export default function UsersPage({ route }: PageProps) {
  return adminRoute(route, '/admin/users', (name) => <UserForm name={name} />, (created) => <UserList created={created} />);
}
