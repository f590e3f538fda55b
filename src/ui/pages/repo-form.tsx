import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { EditForm } from '../components/admin-list';
import { Field, Loading } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import { RemoteStatusView } from '../components/admin/remote-status';
import { ReplicationSection } from '../components/admin/replication';
import { MAVENISH, SERVED_TYPES, TYPE_ALIASES, TYPE_LABELS } from '../components/admin/package-types';
import type { RepoSummary } from '../components/setup-snippets';
import { navigate } from '../router';

type Config = Record<string, unknown>;
type Kind = 'text' | 'number' | 'bool' | 'password' | 'select' | 'textarea';

interface FieldDef {
  name: string;
  label: string;
  kind: Kind;
  classes: string[];
  /** Only for these package types (all when absent). */
  types?: string[];
  options?: string[];
  hint?: string;
}

/** Fields a change of class keeps (they mean the same in every class). */
const KEPT_ACROSS_CLASSES = ['key', 'rclass', 'packageType', 'description', 'notes', 'includesPattern', 'excludesPattern'];
/** Types whose metadata Arca signs. */
const SIGNED = ['debian', 'rpm', 'yum'];

const FIELDS: FieldDef[] = [
  { name: 'description', label: 'Description', kind: 'text', classes: ['local', 'remote', 'virtual'] },
  { name: 'includesPattern', label: 'Includes pattern', kind: 'text', classes: ['local', 'remote', 'virtual'], hint: 'Ant-style, comma-separated (default **/*)' },
  { name: 'excludesPattern', label: 'Excludes pattern', kind: 'text', classes: ['local', 'remote', 'virtual'] },
  { name: 'url', label: 'Upstream URL', kind: 'text', classes: ['remote'], hint: 'http or https' },
  { name: 'username', label: 'Upstream username', kind: 'text', classes: ['remote'] },
  { name: 'password', label: 'Upstream password', kind: 'password', classes: ['remote'], hint: 'Stored encrypted; leave empty to keep the current one' },
  { name: 'offline', label: 'Offline (serve the cache only)', kind: 'bool', classes: ['remote'] },
  { name: 'retrievalCachePeriodSecs', label: 'Metadata retrieval cache period (s)', kind: 'number', classes: ['remote'] },
  { name: 'missedRetrievalCachePeriodSecs', label: 'Missed retrieval cache period (s)', kind: 'number', classes: ['remote'] },
  { name: 'assumedOfflinePeriodSecs', label: 'Assumed offline period (s)', kind: 'number', classes: ['remote'] },
  { name: 'socketTimeoutMillis', label: 'Socket timeout (ms)', kind: 'number', classes: ['remote'] },
  { name: 'handleReleases', label: 'Handle releases', kind: 'bool', classes: ['local'], types: MAVENISH },
  { name: 'handleSnapshots', label: 'Handle snapshots', kind: 'bool', classes: ['local'], types: MAVENISH },
  { name: 'maxUniqueSnapshots', label: 'Max unique snapshots (0 = all)', kind: 'number', classes: ['local'], types: MAVENISH },
  { name: 'checksumPolicyType', label: 'Checksum policy', kind: 'select', classes: ['local'], types: MAVENISH, options: ['client-checksums', 'server-generated-checksums'] },
  { name: 'suppressPomConsistencyChecks', label: 'Suppress POM consistency checks', kind: 'bool', classes: ['local'], types: MAVENISH },
  { name: 'primaryKeyPairRef', label: 'Signing key pair', kind: 'text', classes: ['local', 'virtual'], types: SIGNED, hint: 'A key pair name (Administration › key pairs); empty: the shared default key' },
  { name: 'yumRootDepth', label: 'Metadata folder depth (yumRootDepth)', kind: 'number', classes: ['local'], types: ['rpm', 'yum'], hint: 'repodata/ goes this many folders below the root (0: at the root)' },
  { name: 'rpmUpstreamPublicKey', label: "Upstream's public keys", kind: 'textarea', classes: ['remote'], types: ['rpm', 'yum'], hint: 'ASCII-armored; the upstream repomd.xml must be signed by one of them (empty: not checked)' },
  { name: 'debianUpstreamPublicKeys', label: "Upstream's public keys", kind: 'textarea', classes: ['remote'], types: ['debian'], hint: 'ASCII-armored; the upstream Release must be signed by one of them (empty: not checked)' },
];

function FieldInput({ def, value, onChange }: { def: FieldDef; value: unknown; onChange: (v: unknown) => void }) {
  const id = `repo-${def.name}`;
  if (def.kind === 'bool') {
    return (
      <label className="inline" htmlFor={id}>
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        {def.label}
      </label>
    );
  }
  return (
    <Field id={id} label={def.label} hint={def.hint}>
      {def.kind === 'textarea' ? (
        <textarea id={id} rows={6} spellCheck={false} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} />
      ) : def.kind === 'select' ? (
        <select id={id} value={String(value ?? def.options?.[0] ?? '')} onChange={(e) => onChange(e.target.value)}>
          {def.options?.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          type={def.kind === 'password' ? 'password' : def.kind === 'number' ? 'number' : 'text'}
          autoComplete={def.kind === 'password' ? 'new-password' : 'off'}
          value={def.kind === 'password' ? String(value ?? '').replace(/^ENC\(.*\)$/, '') : String(value ?? '')}
          required={def.name === 'url'}
          onChange={(e) => onChange(def.kind === 'number' ? (e.target.value === '' ? '' : Number(e.target.value)) : e.target.value)}
        />
      )}
    </Field>
  );
}

/** The ordered members of a virtual repository: add from a list, move up or down, remove. */
function Members({ value, candidates, onChange }: { value: string[]; candidates: string[]; onChange: (v: string[]) => void }) {
  const [pick, setPick] = useState('');
  const free = candidates.filter((c) => !value.includes(c));
  const move = (i: number, d: number) => {
    const next = [...value];
    [next[i], next[i + d]] = [next[i + d], next[i]];
    onChange(next);
  };
  return (
    <fieldset>
      <legend>Member repositories (searched in this order)</legend>
      <ol>
        {value.map((m, i) => (
          <li key={m} className="toolbar">
            <span>{m}</span>
            <button type="button" disabled={i === 0} aria-label={`Move ${m} up`} onClick={() => move(i, -1)}>
              ↑
            </button>
            <button type="button" disabled={i === value.length - 1} aria-label={`Move ${m} down`} onClick={() => move(i, 1)}>
              ↓
            </button>
            <button type="button" aria-label={`Remove ${m}`} onClick={() => onChange(value.filter((x) => x !== m))}>
              Remove
            </button>
          </li>
        ))}
      </ol>
      <div className="toolbar">
        <label htmlFor="repo-add-member">Add member</label>
        <select id="repo-add-member" value={pick} onChange={(e) => setPick(e.target.value)}>
          <option value="">(choose a repository)</option>
          {free.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <button
          type="button"
          disabled={!pick}
          onClick={() => {
            onChange([...value, pick]);
            setPick('');
          }}
        >
          Add
        </button>
      </div>
    </fieldset>
  );
}

/** The defaults the server gives a new repository of a class (the same for every package type). */
function defaultsUrl(rclass: string): string {
  return `/artifactory/api/system/repositoryDefaults/${encodeURIComponent(rclass)}`;
}

/**
 * Creates (PUT) or edits (POST, changed fields only) a local, remote or virtual repository.
 * A new repository's form starts from the server's own defaults for its class (so every box
 * shows what the repository will do) and sends every value it shows.
 */
export function RepoForm({ editKey }: { editKey?: string }) {
  const existing = useAsync(
    (signal) => (editKey ? api<Config>(`/artifactory/api/repositories/${encodeURIComponent(editKey)}`, { signal }) : Promise.resolve(undefined)),
    `repo-form:${editKey ?? ''}`,
  );
  const all = useAsync((signal) => api<RepoSummary[]>('/artifactory/api/repositories', { signal }), 'repos');
  const [config, setConfig] = useState<Config>({ key: '', rclass: 'local', packageType: 'generic', description: '' });
  const [changed, setChanged] = useState<Set<string>>(new Set());
  const action = useAction();
  const rclass = String(config.rclass ?? 'local');
  const defaults = useAsync((signal) => (editKey ? Promise.resolve(undefined) : api<Config>(defaultsUrl(rclass), { signal })), `repo-defaults:${editKey ? '' : rclass}`);

  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (existing.data) setConfig(existing.data);
    if (existing.data) setReady(true);
  }, [existing.data]);
  // A new repository: the class's defaults under what the user chose or typed that still applies.
  useEffect(() => {
    const d = defaults.data;
    if (!d || editKey) return;
    setConfig((c) => {
      const next: Config = { ...d };
      for (const [k, v] of Object.entries(c)) if (KEPT_ACROSS_CLASSES.includes(k) || (changed.has(k) && k in d)) next[k] = v;
      return next;
    });
    setReady(true);
    // `changed` is read at the moment the defaults arrive; a change of it does not re-run this.
  }, [defaults.data, editKey]);

  const set = (name: string, v: unknown) => {
    setConfig((c) => ({ ...c, [name]: v }));
    setChanged((s) => new Set(s).add(name));
  };
  const type = String(config.packageType ?? 'generic');
  const fields = FIELDS.filter((f) => f.classes.includes(rclass) && (!f.types || f.types.includes(type)));
  const members = Array.isArray(config.repositories) ? (config.repositories as string[]) : [];
  const candidates = (all.data ?? []).filter((r) => r.packageType.toLowerCase() === type && r.key !== config.key).map((r) => r.key);
  const localMembers = members.filter((m) => all.data?.find((r) => r.key === m)?.type === 'LOCAL');
  // Only real formats are offered; an existing repository of another type keeps its own.
  const typeOptions: string[] = [...SERVED_TYPES];
  if (editKey && !typeOptions.includes(type)) typeOptions.push(type);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const key = String(config.key ?? '').trim();
      const body: Config = {};
      for (const [k, v] of Object.entries(config)) {
        if (v === '' && (k.endsWith('Secs') || k.endsWith('Millis') || k === 'maxUniqueSnapshots')) continue;
        if (k === 'password' && (v === '' || String(v).startsWith('ENC('))) continue;
        if (editKey && !changed.has(k)) continue;
        body[k] = v;
      }
      if (editKey) await api(`/artifactory/api/repositories/${encodeURIComponent(editKey)}`, { method: 'POST', json: body });
      else await api(`/artifactory/api/repositories/${encodeURIComponent(key)}`, { method: 'PUT', json: { ...body, key } });
      navigate(editKey ? `/admin/repositories?saved=${encodeURIComponent(editKey)}` : `/admin/repositories?created=${encodeURIComponent(key)}`);
    });
  };

  return (
    <EditForm
      title={editKey ? `Edit repository ${editKey}` : 'New repository'}
      label="Repository configuration"
      loadError={existing.error ?? defaults.error}
      before={
        <>
          <Loading when={(!!editKey && existing.loading && !existing.data) || (!editKey && !ready)} />
          {editKey && existing.data?.rclass === 'remote' && <RemoteStatusView repoKey={editKey} />}
        </>
      }
      after={editKey && existing.data && existing.data.rclass !== 'virtual' ? <ReplicationSection repoKey={editKey} rclass={String(existing.data.rclass)} /> : undefined}
      ready={ready}
      editing={!!editKey}
      createLabel="Create repository"
      cancelTo="/admin/repositories"
      action={action}
      onSubmit={submit}
    >
      {!editKey && (
        <Field id="repo-key" label="Repository key" hint="Letters, digits, dots, dashes and underscores">
          <input id="repo-key" required aria-describedby="repo-key-hint" value={String(config.key ?? '')} onChange={(e) => set('key', e.target.value)} />
        </Field>
      )}
      <fieldset disabled={!!editKey}>
        <legend>Class</legend>
        {['local', 'remote', 'virtual'].map((c) => (
          <label key={c} className="inline">
            <input type="radio" name="rclass" value={c} checked={rclass === c} onChange={() => set('rclass', c)} />
            {c}
          </label>
        ))}
      </fieldset>
      <Field id="repo-packageType" label="Package type" hint={editKey ? undefined : 'Formats Arca serves with their client’s own protocol'}>
        <select id="repo-packageType" disabled={!!editKey} value={type} onChange={(e) => set('packageType', e.target.value)}>
          {typeOptions.map((t) => (
            <option key={t} value={t}>
              {TYPE_LABELS[t] ?? (TYPE_ALIASES[t] ? `${t} (${TYPE_LABELS[TYPE_ALIASES[t]]})` : `${t} (stored as plain files)`)}
            </option>
          ))}
        </select>
      </Field>
      {fields.map((f) => (
        <FieldInput key={f.name} def={f} value={config[f.name]} onChange={(v) => set(f.name, v)} />
      ))}
      {rclass === 'virtual' && (
        <>
          <Members value={members} candidates={candidates} onChange={(v) => set('repositories', v)} />
          <Field id="repo-defaultDeploymentRepo" label="Default deployment repository" hint="A local member that receives deploys">
            <select id="repo-defaultDeploymentRepo" value={String(config.defaultDeploymentRepo ?? '')} onChange={(e) => set('defaultDeploymentRepo', e.target.value)}>
              <option value="">(none)</option>
              {localMembers.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
        </>
      )}
    </EditForm>
  );
}
