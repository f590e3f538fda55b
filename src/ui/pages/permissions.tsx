import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { adminRoute, DataTable, EditDeleteCell, EditForm, NewButton, useFreshList } from '../components/admin-list';
import { ErrorBox, Field, Loading, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import { navigate, type PageProps } from '../router';

const V2 = '/artifactory/api/v2/security/permissions';
const ACTIONS = ['read', 'write', 'annotate', 'delete', 'manage'] as const;

interface Section {
  'include-patterns'?: string[];
  'exclude-patterns'?: string[];
  repositories?: string[];
  actions?: { users?: Record<string, string[]>; groups?: Record<string, string[]> };
}

interface Target {
  name: string;
  repo?: Section;
  [other: string]: unknown;
}

interface Grant {
  kind: 'user' | 'group';
  name: string;
  actions: string[];
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function grantsOf(section: Section | undefined): Grant[] {
  const out: Grant[] = [];
  for (const [name, actions] of Object.entries(section?.actions?.users ?? {})) out.push({ kind: 'user', name, actions });
  for (const [name, actions] of Object.entries(section?.actions?.groups ?? {})) out.push({ kind: 'group', name, actions });
  return out;
}

function PermissionForm({ name }: { name?: string }) {
  const existing = useAsync((signal) => (name ? api<Target>(`${V2}/${encodeURIComponent(name)}`, { signal }) : Promise.resolve(undefined)), `perm:${name ?? ''}`);
  const [form, setForm] = useState({ name: '', repositories: 'ANY', include: '**', exclude: '' });
  const [grants, setGrants] = useState<Grant[]>([]);
  const action = useAction();
  const [ready, setReady] = useState(!name);
  useEffect(() => {
    const t = existing.data;
    if (!t) return;
    setReady(true);
    setForm({
      name: t.name,
      repositories: (t.repo?.repositories ?? []).join(', '),
      include: (t.repo?.['include-patterns'] ?? ['**']).join(', '),
      exclude: (t.repo?.['exclude-patterns'] ?? []).join(', '),
    });
    setGrants(grantsOf(t.repo));
  }, [existing.data]);

  const setGrant = (i: number, g: Partial<Grant>) => setGrants((list) => list.map((x, k) => (k === i ? { ...x, ...g } : x)));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const users: Record<string, string[]> = {};
      const groups: Record<string, string[]> = {};
      for (const g of grants) if (g.name.trim()) (g.kind === 'user' ? users : groups)[g.name.trim()] = g.actions;
      const target = {
        ...(existing.data ?? {}),
        name: name ?? form.name.trim(),
        repo: { 'include-patterns': list(form.include), 'exclude-patterns': list(form.exclude), repositories: list(form.repositories), actions: { users, groups } },
      };
      await api(`${V2}/${encodeURIComponent(target.name)}`, { method: 'PUT', json: target });
      navigate(`/admin/permissions?created=${encodeURIComponent(target.name)}`);
    });
  };

  return (
    <EditForm
      title={name ? `Edit permission ${name}` : 'New permission target'}
      label="Permission target"
      loadError={existing.error}
      ready={ready}
      editing={!!name}
      createLabel="Create permission target"
      cancelTo="/admin/permissions"
      action={action}
      onSubmit={submit}
    >
      {!name && (
        <Field id="perm-name" label="Name">
          <input id="perm-name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </Field>
      )}
      <Field id="perm-repos" label="Repositories" hint="Comma-separated keys, or ANY, ANY LOCAL, ANY REMOTE">
        <input id="perm-repos" value={form.repositories} onChange={(e) => setForm({ ...form, repositories: e.target.value })} />
      </Field>
      <Field id="perm-include" label="Include patterns" hint="Comma-separated Ant patterns">
        <input id="perm-include" value={form.include} onChange={(e) => setForm({ ...form, include: e.target.value })} />
      </Field>
      <Field id="perm-exclude" label="Exclude patterns">
        <input id="perm-exclude" value={form.exclude} onChange={(e) => setForm({ ...form, exclude: e.target.value })} />
      </Field>
      <fieldset>
        <legend>Who may do what</legend>
        <table>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Name</th>
              {ACTIONS.map((a) => (
                <th key={a} scope="col">
                  {a}
                </th>
              ))}
              <th scope="col">
                <span className="sr-only">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {grants.map((g, i) => (
              <tr key={i}>
                <td>
                  <select aria-label={`Kind of principal ${i + 1}`} value={g.kind} onChange={(e) => setGrant(i, { kind: e.target.value as Grant['kind'] })}>
                    <option value="user">user</option>
                    <option value="group">group</option>
                  </select>
                </td>
                <td>
                  <input aria-label={`Name of principal ${i + 1}`} value={g.name} onChange={(e) => setGrant(i, { name: e.target.value })} />
                </td>
                {ACTIONS.map((a) => (
                  <td key={a}>
                    <input
                      type="checkbox"
                      aria-label={`${a} for ${g.name || `principal ${i + 1}`}`}
                      checked={g.actions.includes(a)}
                      onChange={(e) => setGrant(i, { actions: e.target.checked ? [...g.actions, a] : g.actions.filter((x) => x !== a) })}
                    />
                  </td>
                ))}
                <td>
                  <button type="button" onClick={() => setGrants(grants.filter((_, k) => k !== i))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => setGrants([...grants, { kind: 'user', name: '', actions: ['read'] }])}>
          Add principal
        </button>
      </fieldset>
    </EditForm>
  );
}

function PermissionList({ created }: { created?: string }) {
  const { list: targets, setExpect } = useFreshList<{ name: string }>(V2, (x) => x.name, 'perms', created);
  return (
    <Page title="Permissions" actions={<NewButton to="/admin/permissions/new">New permission target</NewButton>}>
      <ErrorBox error={targets.error} />
      <Loading when={targets.loading && !targets.data} />
      {targets.data && (
        <DataTable
          items={targets.data}
          headers={['Name']}
          empty="No permission targets yet."
          row={(t) => (
            <tr key={t.name}>
              <th scope="row">{t.name}</th>
              <EditDeleteCell
                what="permission target"
                name={t.name}
                editTo={`/admin/permissions/edit/${encodeURIComponent(t.name)}`}
                onDelete={async () => {
                  await api(`${V2}/${encodeURIComponent(t.name)}`, { method: 'DELETE' });
                  setExpect({ absent: t.name });
                }}
              />
            </tr>
          )}
        />
      )}
    </Page>
  );
}

export default function PermissionsPage({ route }: PageProps) {
  return adminRoute(route, '/admin/permissions', (name) => <PermissionForm name={name} />, (created) => <PermissionList created={created} />);
}
