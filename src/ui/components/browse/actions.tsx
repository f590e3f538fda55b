import { useState } from 'react';
import { api, ApiError, encodePath, storageUrl } from '../../api';
import { ErrorBox, Field, Notice } from '../common';
import { useAction, useAsync } from '../hooks';
import type { RepoSummary } from '../setup-snippets';

/** The caller's effective permissions on an item (`?permissions`: letters r n w d m). */
export interface Perms {
  read: boolean;
  annotate: boolean;
  write: boolean;
  delete: boolean;
  /** Signed in (copy and move need a user). */
  user: boolean;
}

export const NO_PERMS: Perms = { read: false, annotate: false, write: false, delete: false, user: false };

interface PermissionsJson {
  principals?: { users?: Record<string, string[]> };
}

/**
 * What the caller may do on `repo/path`, from `GET /api/storage/{repo}/{path}?permissions`
 * (answered for signed-in users only: an anonymous visitor reads, and nothing more).
 */
export function usePermissions(repo: string, path: string, user: { name: string; anonymous: boolean }, key: string, ready = true): Perms | undefined {
  const state = useAsync(async (signal) => {
    if (!ready) return undefined;
    if (user.anonymous) return { ...NO_PERMS, read: true };
    const json = await api<PermissionsJson>(`${storageUrl(repo, path)}?permissions`, { signal });
    const letters = new Set(json.principals?.users?.[user.name] ?? Object.values(json.principals?.users ?? {})[0] ?? []);
    return { read: letters.has('r'), annotate: letters.has('n'), write: letters.has('w'), delete: letters.has('d'), user: true };
  }, `${repo}/${path}#${key}#${user.name}#${ready}`);
  return state.data ?? (state.error ? { ...NO_PERMS, read: true } : undefined);
}

/** `k=v1,v2` as the storage API's properties parameter reads it (each part encoded, commas in values escaped). */
export function propertiesParam(key: string, values: string[]): string {
  return `${encodeURIComponent(key)}=${values.map((v) => encodeURIComponent(v.replace(/,/g, '\\,'))).join(',')}`;
}

async function loadProperties(repo: string, path: string, signal: AbortSignal): Promise<Record<string, string[]>> {
  try {
    const r = await api<{ properties: Record<string, string[]> }>(`${storageUrl(repo, path)}?properties&allowEmpty=1`, { signal });
    return r.properties ?? {};
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return {};
    throw err;
  }
}

/**
 * An item's properties; with annotate permission, add or change a property (values separated
 * by commas) and delete one, on a folder optionally on everything below it (`recursive=1`).
 */
export function PropertiesPanel({ repo, path, folder, canEdit, version, onChanged }: { repo: string; path: string; folder: boolean; canEdit: boolean; version: number; onChanged: () => void }) {
  const [tick, setTick] = useState(0);
  const props = useAsync((signal) => loadProperties(repo, path, signal), `${repo}/${path}#${version}#${tick}`);
  const [key, setKey] = useState('');
  const [values, setValues] = useState('');
  const [recursive, setRecursive] = useState(false);
  const action = useAction();
  const entries = Object.entries(props.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const rec = folder ? `&recursive=${recursive ? 1 : 0}` : '&recursive=0';
  const done = (msg: string) => {
    setTick((t) => t + 1);
    onChanged();
    return msg;
  };
  const save = () =>
    action.run(async () => {
      const k = key.trim();
      if (!k) throw new Error('Enter a property name');
      const vals = values.split(',').map((v) => v.trim());
      await api(`${storageUrl(repo, path)}?properties=${propertiesParam(k, vals)}${rec}`, { method: 'PUT' });
      setKey('');
      setValues('');
      return done(`Property ${k} saved${folder && recursive ? ' on the folder and everything below it' : ''}.`);
    });
  const remove = (k: string) =>
    action.run(async () => {
      await api(`${storageUrl(repo, path)}?properties=${encodeURIComponent(k)}${rec}`, { method: 'DELETE' });
      return done(`Property ${k} deleted${folder && recursive ? ' from the folder and everything below it' : ''}.`);
    });
  return (
    <section className="card" aria-labelledby="props-title">
      <h2 id="props-title">Properties</h2>
      <ErrorBox error={props.error} />
      {!props.data && !props.error && <div className="skeleton" aria-hidden="true" />}
      {props.data && entries.length === 0 && <p className="muted">No properties.</p>}
      {entries.length > 0 && (
        <div className="table-wrap">
          <table data-testid="properties-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Values</th>
                {canEdit && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {entries.map(([k, v]) => (
                <tr key={k} data-property={k}>
                  <td>{k}</td>
                  <td>{v.join(', ')}</td>
                  {canEdit && (
                    <td className="actions">
                      <button
                        type="button"
                        onClick={() => {
                          setKey(k);
                          setValues(v.join(', '));
                        }}
                        aria-label={`Edit property ${k}`}
                      >
                        Edit
                      </button>
                      <button type="button" className="danger" onClick={() => void remove(k)} aria-label={`Delete property ${k}`} disabled={action.busy}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canEdit && (
        <form
          className="props-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div className="row">
            <Field id="prop-key" label="Property name">
              <input id="prop-key" value={key} onChange={(e) => setKey(e.target.value)} autoComplete="off" />
            </Field>
            <Field id="prop-values" label="Values (comma-separated)">
              <input id="prop-values" value={values} onChange={(e) => setValues(e.target.value)} autoComplete="off" />
            </Field>
          </div>
          {folder && (
            <label className="inline check">
              <input type="checkbox" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} /> Apply to everything in this folder too (recursive)
            </label>
          )}
          <p className="toolbar">
            <button type="submit" className="primary" disabled={action.busy}>
              Save property
            </button>
          </p>
        </form>
      )}
      <ErrorBox error={action.error} />
      <Notice>{action.message}</Notice>
    </section>
  );
}

interface CopyMoveAnswer {
  messages?: Array<{ level: string; message: string }>;
}

/**
 * Copy or move `repo/path` to another local repository and path, with a dry run first if the
 * user wants one (`?dry=1`: the server checks everything and changes nothing).
 */
export function CopyMoveForm({ mode, repo, path, repos, onDone, onCancel }: { mode: 'copy' | 'move'; repo: string; path: string; repos: RepoSummary[]; onDone: (to: string) => void; onCancel: () => void }) {
  const targets = repos.filter((r) => r.type === 'LOCAL');
  const [target, setTarget] = useState(targets.find((r) => r.key !== repo)?.key ?? targets[0]?.key ?? '');
  const [toPath, setToPath] = useState(path);
  const [dry, setDry] = useState(true);
  const [result, setResult] = useState<{ ok: boolean; dry: boolean; messages: string[] }>();
  const action = useAction();
  const Title = mode === 'copy' ? 'Copy' : 'Move';
  const run = () =>
    action.run(async () => {
      const to = `/${target}/${toPath.replace(/^\/+/, '')}`;
      const url = `/artifactory/api/${mode}/${encodeURIComponent(repo)}/${encodePath(path)}?to=${encodeURIComponent(to)}${dry ? '&dry=1' : ''}`;
      let answer: CopyMoveAnswer;
      let ok = true;
      try {
        answer = await api<CopyMoveAnswer>(url, { method: 'POST' });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409) throw err;
        answer = (err.body ?? {}) as CopyMoveAnswer;
        ok = false;
      }
      const messages = (answer.messages ?? []).map((m) => `${m.level}: ${m.message}`);
      setResult({ ok, dry, messages });
      if (ok && !dry) onDone(`${target}/${toPath.replace(/^\/+/, '')}`);
    });
  const id = `${mode}-form`;
  return (
    <form
      className="card copy-move"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        void run();
      }}
    >
      <h2 id={`${id}-title`}>
        {Title} {repo}/{path}
      </h2>
      <div className="row">
        <Field id={`${id}-repo`} label="Target repository">
          <select id={`${id}-repo`} value={target} onChange={(e) => setTarget(e.target.value)}>
            {targets.map((r) => (
              <option key={r.key} value={r.key}>
                {r.key}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-path`} label="Target path">
          <input id={`${id}-path`} value={toPath} onChange={(e) => setToPath(e.target.value)} autoComplete="off" />
        </Field>
      </div>
      <label className="inline check">
        <input type="checkbox" checked={dry} onChange={(e) => setDry(e.target.checked)} /> Dry run (check only, change nothing)
      </label>
      <p className="toolbar">
        <button type="submit" className="primary" disabled={action.busy || !target}>
          {dry ? `Check ${mode}` : Title}
        </button>
        <button type="button" onClick={onCancel}>
          Close
        </button>
      </p>
      <ErrorBox error={action.error} />
      {result && (
        <div role="status" className={result.ok ? 'notice' : 'error'} data-testid={`${mode}-result`}>
          <p>{result.ok ? (result.dry ? `Dry run: the ${mode} would succeed.` : `${Title} done.`) : `The ${mode} ${result.dry ? 'would fail' : 'failed'}:`}</p>
          {result.messages.length > 0 && (
            <ul>
              {result.messages.map((m, i) => (
                <li key={i}>{m}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}
