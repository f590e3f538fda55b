import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { adminRoute, DataTable, EditDeleteCell, EditForm, NewButton, SavedNotice, useFreshList } from '../components/admin-list';
import { Combobox, type ComboOption } from '../components/admin/combobox';
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

/** The pseudo-repositories of the seed: chosen explicitly, never a default. */
const PSEUDO: ComboOption[] = [
  { value: 'ANY', label: 'ANY — every repository' },
  { value: 'ANY LOCAL', label: 'ANY LOCAL — every local repository' },
  { value: 'ANY REMOTE', label: 'ANY REMOTE — every remote repository' },
];

/** What `names` has that `known` lacks, for the refusal message. */
function unknown(names: string[], known: string[] | undefined): string[] {
  return known ? names.filter((n) => !known.includes(n)) : [];
}

/** The chosen repositories as removable chips, and a combobox that adds known ones only. */
function RepoPicker({ value, known, onChange }: { value: string[]; known: string[] | undefined; onChange: (v: string[]) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const options = [...PSEUDO, ...(known ?? []).map((k) => ({ value: k }))].filter((o) => !value.includes(o.value));
  const add = (name: string) => {
    const n = name.trim();
    if (!n) return;
    const match = options.find((o) => o.value.toLowerCase() === n.toLowerCase());
    if (!match) {
      setError(value.includes(n) ? `'${n}' is already chosen` : `There is no repository named '${n}': choose one from the list`);
      return;
    }
    onChange([...value, match.value]);
    setText('');
    setError('');
  };
  return (
    <fieldset>
      <legend>Repositories</legend>
      <p className="muted" id="perm-repos-hint">
        Choose the repositories this target covers, or one of ANY, ANY LOCAL and ANY REMOTE. Nothing is chosen by default.
      </p>
      <ul className="chips" aria-label="Chosen repositories" data-testid="perm-repos-chosen">
        {value.length === 0 && <li className="muted">none yet</li>}
        {value.map((r) => (
          <li key={r}>
            <span className={known && !PSEUDO.some((p) => p.value === r) && !known.includes(r) ? 'status-failing' : undefined}>{r}</span>
            <button type="button" aria-label={`Remove repository ${r}`} onClick={() => onChange(value.filter((x) => x !== r))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <label htmlFor="perm-repo-add">Add a repository</label>
      <div className="toolbar">
        <div className="grow">
          <Combobox
            id="perm-repo-add"
            value={text}
            onChange={(t) => {
              setText(t);
              setError('');
            }}
            options={options}
            onPick={add}
            onEnter={add}
            describedBy="perm-repos-hint"
            placeholder="Type to search repositories"
            invalid={!!error}
          />
        </div>
        <button type="button" onClick={() => add(text)}>
          Add
        </button>
      </div>
      <ErrorBox error={error} />
    </fieldset>
  );
}

function PermissionForm({ name }: { name?: string }) {
  const existing = useAsync((signal) => (name ? api<Target>(`${V2}/${encodeURIComponent(name)}`, { signal }) : Promise.resolve(undefined)), `perm:${name ?? ''}`);
  const repos = useAsync((signal) => api<Array<{ key: string }>>('/artifactory/api/repositories', { signal }).then((l) => l.map((r) => r.key)), 'perm-repos');
  const users = useAsync((signal) => api<Array<{ name: string }>>('/artifactory/api/security/users', { signal }).then((l) => l.map((u) => u.name)), 'perm-users');
  const groups = useAsync((signal) => api<Array<{ name: string }>>('/artifactory/api/security/groups', { signal }).then((l) => l.map((g) => g.name)), 'perm-groups');
  const [form, setForm] = useState({ name: '', include: '**', exclude: '' });
  const [repositories, setRepositories] = useState<string[]>([]);
  const [grants, setGrants] = useState<Grant[]>([]);
  const action = useAction();
  const [ready, setReady] = useState(!name);
  useEffect(() => {
    const t = existing.data;
    if (!t) return;
    setReady(true);
    setForm({
      name: t.name,
      include: (t.repo?.['include-patterns'] ?? ['**']).join(', '),
      exclude: (t.repo?.['exclude-patterns'] ?? []).join(', '),
    });
    setRepositories(t.repo?.repositories ?? []);
    setGrants(grantsOf(t.repo));
  }, [existing.data]);

  const setGrant = (i: number, g: Partial<Grant>) => setGrants((list) => list.map((x, k) => (k === i ? { ...x, ...g } : x)));
  const knownOf = (kind: Grant['kind']) => (kind === 'user' ? users.data : groups.data);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      if (repositories.length === 0) throw new Error('Choose at least one repository (or ANY, ANY LOCAL or ANY REMOTE).');
      const badRepos = unknown(
        repositories.filter((r) => !PSEUDO.some((p) => p.value === r)),
        repos.data,
      );
      if (badRepos.length > 0) throw new Error(`Unknown repositories: ${badRepos.join(', ')}. Remove them or create them first.`);
      const named = grants.filter((g) => g.name.trim());
      const badUsers = unknown(
        named.filter((g) => g.kind === 'user').map((g) => g.name.trim()),
        users.data,
      );
      const badGroups = unknown(
        named.filter((g) => g.kind === 'group').map((g) => g.name.trim()),
        groups.data,
      );
      if (badUsers.length > 0 || badGroups.length > 0) {
        throw new Error(
          [badUsers.length > 0 ? `unknown users: ${badUsers.join(', ')}` : '', badGroups.length > 0 ? `unknown groups: ${badGroups.join(', ')}` : '']
            .filter(Boolean)
            .join('; ')
            .replace(/^u/, 'U') + '. Pick names from the suggestions.',
        );
      }
      const usersMap: Record<string, string[]> = {};
      const groupsMap: Record<string, string[]> = {};
      for (const g of named) (g.kind === 'user' ? usersMap : groupsMap)[g.name.trim()] = g.actions;
      const target = {
        ...(existing.data ?? {}),
        name: name ?? form.name.trim(),
        repo: { 'include-patterns': list(form.include), 'exclude-patterns': list(form.exclude), repositories, actions: { users: usersMap, groups: groupsMap } },
      };
      await api(`${V2}/${encodeURIComponent(target.name)}`, { method: 'PUT', json: target });
      navigate(name ? `/admin/permissions?saved=${encodeURIComponent(target.name)}` : `/admin/permissions?created=${encodeURIComponent(target.name)}`);
    });
  };

  return (
    <EditForm
      title={name ? `Edit permission ${name}` : 'New permission target'}
      label="Permission target"
      loadError={existing.error ?? repos.error ?? users.error ?? groups.error}
      ready={ready && !!repos.data && !!users.data && !!groups.data}
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
      <RepoPicker value={repositories} known={repos.data} onChange={setRepositories} />
      <Field id="perm-include" label="Include patterns" hint="Comma-separated Ant patterns">
        <input id="perm-include" aria-describedby="perm-include-hint" value={form.include} onChange={(e) => setForm({ ...form, include: e.target.value })} />
      </Field>
      <Field id="perm-exclude" label="Exclude patterns">
        <input id="perm-exclude" value={form.exclude} onChange={(e) => setForm({ ...form, exclude: e.target.value })} />
      </Field>
      <fieldset>
        <legend>Who may do what</legend>
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table of principals and their actions">
          <table className="grants">
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
              {grants.map((g, i) => {
                const known = knownOf(g.kind);
                const bad = g.name.trim() !== '' && !!known && !known.includes(g.name.trim());
                return (
                  <tr key={i}>
                    <td>
                      <select aria-label={`Kind of principal ${i + 1}`} value={g.kind} onChange={(e) => setGrant(i, { kind: e.target.value as Grant['kind'] })}>
                        <option value="user">user</option>
                        <option value="group">group</option>
                      </select>
                    </td>
                    <td>
                      <Combobox
                        id={`perm-principal-${i}`}
                        ariaLabel={`Name of principal ${i + 1} (${g.kind})`}
                        value={g.name}
                        onChange={(t) => setGrant(i, { name: t })}
                        onPick={(v) => setGrant(i, { name: v })}
                        options={(known ?? []).map((n) => ({ value: n }))}
                        invalid={bad}
                        placeholder={g.kind === 'user' ? 'user name' : 'group name'}
                      />
                      {bad && <small className="status-failing">no such {g.kind}</small>}
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
                      <button type="button" aria-label={`Remove principal ${g.name || i + 1}`} onClick={() => setGrants(grants.filter((_, k) => k !== i))}>
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <button type="button" onClick={() => setGrants([...grants, { kind: 'user', name: '', actions: ['read'] }])}>
          Add principal
        </button>
      </fieldset>
    </EditForm>
  );
}

function PermissionList({ created, saved }: { created?: string; saved?: string }) {
  const { list: targets, setExpect } = useFreshList<{ name: string }>(V2, (x) => x.name, 'perms', created);
  return (
    <Page title="Permissions" actions={<NewButton to="/admin/permissions/new">New permission target</NewButton>}>
      <SavedNotice what="Permission target" created={created} saved={saved} />
      <ErrorBox error={targets.error} />
      <Loading when={targets.loading && !targets.data} />
      {targets.data && (
        <DataTable
          label="Permission targets"
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
  return adminRoute(route, '/admin/permissions', (name) => <PermissionForm name={name} />, (created, saved) => <PermissionList created={created} saved={saved} />);
}
