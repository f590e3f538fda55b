import { useState, type DragEvent, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { DataTable } from '../components/admin-list';
import { ErrorBox, Field, Loading, Notice, Page } from '../components/common';
import { ConfirmButton } from '../components/confirm-button';
import { useAction, useAsync } from '../components/hooks';

interface LicenseEntry {
  type: string;
  validThrough: string;
  licensedTo: string;
  licenseHash: string;
  nodeId: string;
  nodeUrl: string;
  expired?: boolean;
}

export const LICENSES_REFRESH_MS = 5000;
const NOT_IN_USE = 'Not in use';

/** License keys pasted or read from files: separated by newlines, spaces or semicolons. */
export function splitKeys(text: string): string[] {
  return text
    .split(/[\s;,]+/)
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

interface LicenseList {
  licenses: LicenseEntry[];
  licenseManager?: { enabled: boolean; message?: string; nodeId?: string; nodeLicense?: string | null };
}

async function loadLicenses(signal: AbortSignal): Promise<LicenseList> {
  // The seed's docs show a bare array; its sources (and Arca) wrap it in {licenses}. Take either.
  const body = await api<LicenseEntry[] | LicenseList>('/artifactory/api/system/licenses', { signal });
  return Array.isArray(body) ? { licenses: body } : { licenses: body?.licenses ?? [], licenseManager: body?.licenseManager };
}

function AddLicenses({ onAdded }: { onAdded: () => void }) {
  const [text, setText] = useState('');
  const [over, setOver] = useState(false);
  const action = useAction();

  const readFiles = async (files: File[]) => {
    const texts = await Promise.all(files.map((f) => f.text()));
    setText((t) => [t.trim(), ...texts.map((x) => x.trim())].filter(Boolean).join('\n'));
  };

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void readFiles(Array.from(e.dataTransfer?.files ?? []));
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const keys = splitKeys(text);
    if (keys.length === 0) return;
    void action.run(async () => {
      let result: { messages?: Record<string, string> } | undefined;
      try {
        result = await api('/artifactory/api/system/licenses', { json: keys.map((licenseKey) => ({ licenseKey })) });
      } finally {
        onAdded();
      }
      const messages = Object.values(result?.messages ?? {});
      const ok = messages.filter((m) => m === 'OK').length;
      setText('');
      return `${ok} of ${keys.length} license${keys.length === 1 ? '' : 's'} added.${messages.some((m) => m !== 'OK') ? ` ${messages.filter((m) => m !== 'OK').join('; ')}` : ''}`;
    });
  };

  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-licenses-title">
      <h2 id="add-licenses-title">Add licenses</h2>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="license-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <Field id="license-keys" label="License keys" hint="Paste one or more keys (separated by newlines, spaces or semicolons), or drop license files here.">
          <textarea id="license-keys" value={text} onChange={(e) => setText(e.target.value)} rows={5} />
        </Field>
        <label className="inline">
          Or read from files:
          <input type="file" multiple onChange={(e) => void readFiles(Array.from(e.target.files ?? []))} />
        </label>
      </div>
      <p className="toolbar">
        <button type="submit" className="primary" disabled={action.busy || splitKeys(text).length === 0}>
          Add {splitKeys(text).length || ''} license{splitKeys(text).length === 1 ? '' : 's'}
        </button>
      </p>
      <ErrorBox error={action.error} />
      <Notice>{action.message}</Notice>
    </form>
  );
}

function DeleteLicense({ entry, onDeleted }: { entry: LicenseEntry; onDeleted: () => void }) {
  return (
    <ConfirmButton
      label="Delete"
      accessibleLabel={`Delete license ${entry.licenseHash.slice(0, 12)}`}
      groupLabel="Confirm deletion"
      onConfirm={async () => {
        await api(`/artifactory/api/system/licenses?licenseHash=${encodeURIComponent(entry.licenseHash)}`, { method: 'DELETE' });
        onDeleted();
      }}
    />
  );
}

/** The cluster license pool: which node holds which license; add and delete licenses. */
export default function LicensesPage() {
  const list = useAsync(loadLicenses, 'licenses', LICENSES_REFRESH_MS);
  const manager = list.data?.licenseManager;
  const off = manager?.enabled === false ? (manager.message ?? 'The license manager is off.') : list.error instanceof ApiError && list.error.status === 409 ? list.error.message : undefined;
  const licenses = list.data?.licenses;
  return (
    <Page title="Licenses">
      <p className="muted">
        {manager?.enabled && manager.nodeId ? `This page is served by node ${manager.nodeId}, which ${manager.nodeLicense ? `holds license ${manager.nodeLicense.slice(0, 16)}…` : 'holds no license'}. ` : ''}
        Refreshes every {LICENSES_REFRESH_MS / 1000} s{list.at ? `; last update ${list.at.toLocaleTimeString()}` : ''}.
      </p>
      {off ? <p className="notice">{off}</p> : <ErrorBox error={list.error} />}
      <Loading when={list.loading && !list.data} />
      {licenses && !off && (
        <DataTable
          items={licenses}
          headers={['License Hash', 'Licensed To', 'Valid Through', 'License Type', 'Node ID', 'Node URL']}
          empty="No licenses in the pool."
          testId="licenses-table"
          label="License pool"
          row={(l) => (
            <tr key={l.licenseHash} data-license-hash={l.licenseHash}>
              <td className="mono" title={l.licenseHash}>
                {l.licenseHash.slice(0, 16)}…
              </td>
              <td>{l.licensedTo}</td>
              <td className={l.expired ? 'state state-FAILED' : undefined}>
                {l.validThrough}
                {l.expired ? ' (expired)' : ''}
              </td>
              <td>{l.type}</td>
              <td data-testid="license-node">{l.nodeId}</td>
              <td>{l.nodeUrl === NOT_IN_USE ? <span className="muted">{NOT_IN_USE}</span> : l.nodeUrl}</td>
              <td>
                <DeleteLicense entry={l} onDeleted={list.reload} />
              </td>
            </tr>
          )}
        />
      )}
      {list.data && !off && <AddLicenses onAdded={list.reload} />}
    </Page>
  );
}
