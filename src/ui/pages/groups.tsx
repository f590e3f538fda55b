import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { adminRoute, DataTable, EditDeleteCell, EditForm, NewButton, useFreshList } from '../components/admin-list';
import { ErrorBox, Field, Loading, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import { navigate, type PageProps } from '../router';

interface GroupDetails {
  name: string;
  description?: string;
  autoJoin?: boolean;
  adminPrivileges?: boolean;
  realm?: string;
  userNames?: string[];
}

const GROUPS = '/artifactory/api/security/groups';

function GroupForm({ name }: { name?: string }) {
  const existing = useAsync((signal) => (name ? api<GroupDetails>(`${GROUPS}/${encodeURIComponent(name)}?includeUsers=true`, { signal }) : Promise.resolve(undefined)), `group:${name ?? ''}`);
  const [g, setG] = useState({ name: '', description: '', autoJoin: false, adminPrivileges: false });
  const action = useAction();
  const [ready, setReady] = useState(!name);
  useEffect(() => {
    const d = existing.data;
    if (d) setReady(true);
    if (d) setG({ name: d.name, description: d.description ?? '', autoJoin: !!d.autoJoin, adminPrivileges: !!d.adminPrivileges });
  }, [existing.data]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body = { description: g.description, autoJoin: g.autoJoin, adminPrivileges: g.adminPrivileges };
      if (name) await api(`${GROUPS}/${encodeURIComponent(name)}`, { method: 'POST', json: body });
      else await api(`${GROUPS}/${encodeURIComponent(g.name.trim())}`, { method: 'PUT', json: { ...body, name: g.name.trim() } });
      navigate(`/admin/groups?created=${encodeURIComponent(name ?? g.name.trim())}`);
    });
  };

  return (
    <EditForm title={name ? `Edit group ${name}` : 'New group'} label="Group" loadError={existing.error} ready={ready} editing={!!name} createLabel="Create group" cancelTo="/admin/groups" action={action} onSubmit={submit}>
      {!name && (
        <Field id="group-name" label="Group name">
          <input id="group-name" required value={g.name} onChange={(e) => setG({ ...g, name: e.target.value })} />
        </Field>
      )}
      <Field id="group-description" label="Description">
        <input id="group-description" value={g.description} onChange={(e) => setG({ ...g, description: e.target.value })} />
      </Field>
      <label className="inline">
        <input type="checkbox" checked={g.autoJoin} onChange={(e) => setG({ ...g, autoJoin: e.target.checked })} />
        New users join automatically
      </label>
      <label className="inline">
        <input type="checkbox" checked={g.adminPrivileges} onChange={(e) => setG({ ...g, adminPrivileges: e.target.checked })} />
        Administrator privileges
      </label>
      {existing.data?.userNames && (
        <p>
          Members: {existing.data.userNames.length ? existing.data.userNames.join(', ') : <span className="muted">none</span>} (edit a user to change their groups)
        </p>
      )}
    </EditForm>
  );
}

function GroupList({ created }: { created?: string }) {
  const { list: groups, setExpect } = useFreshList<{ name: string }>(GROUPS, (x) => x.name, 'groups', created);
  return (
    <Page title="Groups" actions={<NewButton to="/admin/groups/new">New group</NewButton>}>
      <ErrorBox error={groups.error} />
      <Loading when={groups.loading && !groups.data} />
      {groups.data && (
        <DataTable
          items={groups.data}
          headers={['Name']}
          empty="No groups yet."
          row={(g) => (
            <tr key={g.name}>
              <th scope="row">{g.name}</th>
              <EditDeleteCell
                what="group"
                name={g.name}
                editTo={`/admin/groups/edit/${encodeURIComponent(g.name)}`}
                onDelete={async () => {
                  await api(`${GROUPS}/${encodeURIComponent(g.name)}`, { method: 'DELETE' });
                  setExpect({ absent: g.name });
                }}
              />
            </tr>
          )}
        />
      )}
    </Page>
  );
}

export default function GroupsPage({ route }: PageProps) {
  return adminRoute(route, '/admin/groups', (name) => <GroupForm name={name} />, (created) => <GroupList created={created} />);
}
