import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { rememberBaseUrl, urlBaseFromXml } from '../components/base-url';
import { ErrorBox, Field, Loading, Notice, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';

function flag(xml: string, name: string): boolean {
  return new DOMParser().parseFromString(xml, 'application/xml').getElementsByTagName(name)[0]?.textContent?.trim() === 'true';
}

/** General configuration: the custom URL base (used in every URL the API and the set-up snippets give) and anonymous access. */
export default function GeneralPage() {
  const config = useAsync((signal) => api<string>('/artifactory/api/system/configuration', { signal }), 'config');
  const [base, setBase] = useState('');
  const [anon, setAnon] = useState(false);
  const [hide, setHide] = useState(false);
  const action = useAction();

  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (typeof config.data !== 'string') return;
    setReady(true);
    setBase(urlBaseFromXml(config.data));
    setAnon(flag(config.data, 'anonAccessEnabled'));
    setHide(flag(config.data, 'hideUnauthorizedResources'));
  }, [config.data]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await api('/artifactory/api/system/configuration/baseUrl', { method: 'PUT', body: base.trim() });
      await api('/artifactory/api/system/configuration', {
        method: 'PATCH',
        body: `security:\n  anonAccessEnabled: ${anon}\n  hideUnauthorizedResources: ${hide}\n`,
        contentType: 'application/yaml',
      });
      rememberBaseUrl(base.trim());
      return 'Configuration saved.';
    });
  };

  return (
    <Page title="General configuration">
      <ErrorBox error={config.error} />
      <Loading when={config.loading && !config.data} />
      <form className="card" onSubmit={submit} aria-label="General configuration">
        {/* Disabled until the current values arrived, so they cannot overwrite what is typed. */}
        <fieldset className="plain" disabled={!ready}>
        <Field id="url-base" label="Custom URL Base" hint="The address clients use, e.g. https://repo.example.com/artifactory (empty: each request's own host)">
          <input id="url-base" type="url" value={base} placeholder={`${window.location.origin}/artifactory`} onChange={(e) => setBase(e.target.value)} />
        </Field>
        <label className="inline">
          <input type="checkbox" checked={anon} onChange={(e) => setAnon(e.target.checked)} />
          Allow anonymous access
        </label>
        <label className="inline">
          <input type="checkbox" checked={hide} onChange={(e) => setHide(e.target.checked)} />
          Hide unauthorized resources (404 instead of 403)
        </label>
        <p className="toolbar">
          <button type="submit" className="primary" disabled={action.busy || !config.data}>
            Save
          </button>
        </p>
        <ErrorBox error={action.error} />
        <Notice>{action.message}</Notice>
        </fieldset>
      </form>
    </Page>
  );
}
