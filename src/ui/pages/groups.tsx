import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { adminRoute, DataTable, EditDeleteCell, EditForm, NewButton, SavedNotice, useFreshList } from '../components/admin-list';
import { Combobox } from '../components/admin/combobox';
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
  const users = useAsync((signal) => api<Array<{ name: string }>>('/artifactory/api/security/users', { signal }).then((l) => l.map((u) => u.name).filter((n) => n !== 'anonymous')), 'group-form-users');
  const [g, setG] = useState({ name: '', description: '', autoJoin: false, adminPrivileges: false });
  const [members, setMembers] = useState<string[]>([]);
  const [pick, setPick] = useState('');
  const [pickError, setPickError] = useState('');
  const action = useAction();
  const [ready, setReady] = useState(!name);
  useEffect(() => {
    const d = existing.data;
    if (d) setReady(true);
    if (d) setG({ name: d.name, description: d.description ?? '', autoJoin: !!d.autoJoin, adminPrivileges: !!d.adminPrivileges });
    if (d) setMembers(d.userNames ?? []);
  }, [existing.data]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body = { description: g.description, autoJoin: g.autoJoin, adminPrivileges: g.adminPrivileges, userNames: members };
      if (name) await api(`${GROUPS}/${encodeURIComponent(name)}`, { method: 'POST', json: body });
      else await api(`${GROUPS}/${encodeURIComponent(g.name.trim())}`, { method: 'PUT', json: { ...body, name: g.name.trim() } });
      navigate(name ? `/admin/groups?saved=${encodeURIComponent(name)}` : `/admin/groups?created=${encodeURIComponent(g.name.trim())}`);
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
      <fieldset>
        <legend>Members</legend>
        <ul className="chips" aria-label="Members" data-testid="group-members">
          {members.length === 0 && <li className="muted">none</li>}
          {members.map((m) => (
            <li key={m}>
              <span>{m}</span>
              <button type="button" aria-label={`Remove member ${m}`} onClick={() => setMembers(members.filter((x) => x !== m))}>
                ×
              </button>
            </li>
          ))}
        </ul>
        <label htmlFor="group-add-member">Add a member</label>
        <div className="toolbar">
          <div className="grow">
            <Combobox
              id="group-add-member"
              value={pick}
              onChange={(t) => {
                setPick(t);
                setPickError('');
              }}
              options={(users.data ?? []).filter((n) => !members.includes(n)).map((n) => ({ value: n }))}
              onPick={(v) => {
                setMembers([...members, v]);
                setPick('');
              }}
              placeholder="Type to search users"
              invalid={!!pickError}
            />
          </div>
          <button
            type="button"
            onClick={() => {
              const n = pick.trim();
              if (!n) return;
              if (!users.data?.includes(n)) return setPickError(`There is no user named '${n}': choose one from the list`);
              if (!members.includes(n)) setMembers([...members, n]);
              setPick('');
            }}
          >
            Add
          </button>
        </div>
        <ErrorBox error={pickError} />
      </fieldset>
    </EditForm>
  );
}

function GroupList({ created, saved }: { created?: string; saved?: string }) {
  const { list: groups, setExpect } = useFreshList<{ name: string }>(GROUPS, (x) => x.name, 'groups', created);
  return (
    <Page title="Groups" actions={<NewButton to="/admin/groups/new">New group</NewButton>}>
      <SavedNotice what="Group" created={created} saved={saved} />
      <ErrorBox error={groups.error} />
      <Loading when={groups.loading && !groups.data} />
      {groups.data && (
        <DataTable
          label="Groups"
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
  return adminRoute(route, '/admin/groups', (name) => <GroupForm name={name} />, (created, saved) => <GroupList created={created} saved={saved} />);
}
