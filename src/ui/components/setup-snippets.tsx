import { useEffect, useState } from 'react';
import { api } from '../api';
import { Link } from '../router';
import { useSession } from '../session';
import { ErrorBox } from './common';
import { CopyButton, Copyable } from './copy-button';
import { useAction, useAsync } from './hooks';
import { useRepoBase } from './packages/repo-base';
import { roles, snippetsFor, TOKEN_PLACEHOLDER, type RepoSummary } from './packages/snippets';
import '../styles/packages.css';

export { snippetsFor, type RepoSummary } from './packages/snippets';

interface VirtualConfig {
  key: string;
  repositories?: string[];
  defaultDeploymentRepo?: string;
}

/** At most this many virtual repositories are read to find the ones that include a repository. */
const MAX_VIRTUALS = 50;

/** The virtual repositories whose members (directly or through another virtual) include `key`. */
export function virtualsIncluding(key: string, virtuals: VirtualConfig[]): string[] {
  const members = new Map(virtuals.map((v) => [v.key, v.repositories ?? []]));
  const includes = (v: string, seen: Set<string>): boolean => {
    if (seen.has(v)) return false;
    seen.add(v);
    return (members.get(v) ?? []).some((m) => m === key || (members.has(m) && includes(m, seen)));
  };
  return virtuals.filter((v) => includes(v.key, new Set())).map((v) => v.key);
}

async function loadVirtuals(packageType: string, signal: AbortSignal): Promise<VirtualConfig[]> {
  const list = await api<Array<{ key: string }>>(`/artifactory/api/repositories?type=virtual&packageType=${encodeURIComponent(packageType)}`, { signal });
  const keys = list.slice(0, MAX_VIRTUALS).map((r) => r.key);
  return Promise.all(keys.map((k) => api<VirtualConfig>(`/artifactory/api/repositories/${encodeURIComponent(k)}`, { signal }).catch(() => ({ key: k }))));
}

/** "Generate token": an access token for the signed-in user, put into every snippet that takes credentials. */
function TokenMaker({ repo, token, onToken }: { repo: string; token?: string; onToken: (t: string) => void }) {
  const action = useAction();
  const generate = () =>
    void action.run(async () => {
      // 30 days: within a non-admin's maximum lifetime.
      const res = await api<{ access_token: string }>('/access/api/v1/tokens', { json: { description: `Set Me Up: ${repo}`, expires_in: 30 * 24 * 3600 } });
      onToken(res.access_token);
    });
  return (
    <div className="setup-token">
      {token ? (
        <div role="status">
          <p>
            A new access token (valid 30 days) is in every snippet below. Copy it now: it is not shown again. Revoke it under <Link to="/tokens">Access tokens</Link>.
          </p>
          <Copyable text={token} label="Copy the access token" />
        </div>
      ) : (
        <p className="toolbar">
          <button type="button" className="primary" onClick={generate} disabled={action.busy}>
            Generate token
          </button>
          <span className="muted">
            Creates an access token for you and inserts it where the snippets say <code>{TOKEN_PLACEHOLDER}</code>.
          </span>
        </p>
      )}
      <ErrorBox error={action.error} />
    </div>
  );
}

/** "Set Me Up": client configuration snippets for one repository, one tab per client. */
export function SetupSnippets({ repo, user }: { repo: RepoSummary; user: string }) {
  const base = useRepoBase(repo.key, repo.url);
  const session = useSession();
  const anonymous = !session.user || session.user.anonymous;
  const [token, setToken] = useState<string>();
  const [tab, setTab] = useState(0);
  const cls = repo.type.toUpperCase();
  const virtuals = useAsync((signal) => loadVirtuals(repo.packageType, signal), `${repo.packageType}`);
  const including = cls === 'VIRTUAL' ? [] : virtualsIncluding(repo.key, virtuals.data ?? []);
  const [resolve, setResolve] = useState<string>();
  useEffect(() => setResolve(undefined), [repo.key]);
  const chosen = resolve && including.includes(resolve) ? resolve : including[0];
  const deploy = cls === 'VIRTUAL' ? virtuals.data?.find((v) => v.key === repo.key)?.defaultDeploymentRepo : undefined;
  const ctx = { resolve: chosen, deploy, token };
  const snippets = snippetsFor(repo, base, anonymous ? 'anonymous' : user, ctx);
  const current = snippets[Math.min(tab, snippets.length - 1)];
  const r = roles(repo, ctx);
  const generic = ['generic', 'buildinfo'].includes(repo.packageType.toLowerCase());
  return (
    <section className="card setup" aria-labelledby="setup-title">
      <h2 id="setup-title">Set up a client for {repo.key}</h2>
      {!generic && (
        <div className="setup-roles" data-testid="setup-roles">
          {cls === 'LOCAL' &&
            (chosen ? (
              <p>
                Clients resolve through the virtual repository <strong>{chosen}</strong>, which includes {repo.key}, and deploy to the local repository <strong>{repo.key}</strong>.
              </p>
            ) : virtuals.data ? (
              <p className="setup-warn" role="note">
                {repo.key} is a local repository: it holds only what was deployed to it. No virtual {repo.packageType} repository includes it, so the snippets keep the public registry for everything else. Create a virtual repository that includes {repo.key} (and a remote
                one for the public registry) to resolve through one address
                {session.user?.admin && (
                  <>
                    {' '}
                    (<Link to="/admin/repositories/new">New repository</Link>)
                  </>
                )}
                .
              </p>
            ) : null)}
          {cls === 'REMOTE' && <p>{chosen ? `Clients resolve through the virtual repository ${chosen}, which includes this remote.` : `${repo.key} is a remote repository: it proxies and caches its upstream and takes no deploys.`}</p>}
          {cls === 'VIRTUAL' && <p>{r.deploy ? `Clients resolve through ${repo.key} and deploy to its default deployment repository ${r.deploy}.` : `Clients resolve through ${repo.key}. It has no default deployment repository, so deploy snippets are left out.`}</p>}
          {including.length > 1 && (
            <p>
              <label htmlFor="setup-resolve">Resolve through </label>
              <select id="setup-resolve" value={chosen} onChange={(e) => setResolve(e.target.value)}>
                {including.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </p>
          )}
        </div>
      )}
      {!anonymous && <TokenMaker repo={repo.key} token={token} onToken={setToken} />}
      <div role="tablist" className="tabs" aria-label="Clients">
        {snippets.map((s, i) => (
          <button key={s.title} type="button" role="tab" id={`setup-tab-${i}`} aria-selected={i === tab} aria-controls="setup-panel" tabIndex={i === tab ? 0 : -1} onClick={() => setTab(i)} onKeyDown={(e) => {
            const next = e.key === 'ArrowRight' ? (i + 1) % snippets.length : e.key === 'ArrowLeft' ? (i - 1 + snippets.length) % snippets.length : -1;
            if (next < 0) return;
            e.preventDefault();
            setTab(next);
            document.getElementById(`setup-tab-${next}`)?.focus();
          }}>
            {s.title}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="setup-panel" aria-labelledby={`setup-tab-${tab}`}>
        {current.file && (
          <p>
            In <code>{current.file}</code>:
          </p>
        )}
        {current.note && <p data-testid="setup-note">{current.note}</p>}
        <pre data-testid="setup-snippet" tabIndex={0} aria-label={`${current.title} snippet`}>
          {current.text}
        </pre>
        <p className="toolbar">
          <CopyButton text={current.text} label={`Copy the ${current.title} snippet`} />
          <span className="muted">
            {token ? 'The snippet holds your new token.' : anonymous ? 'Sign in to generate a token.' : <>Generate a token above, or replace <code>{TOKEN_PLACEHOLDER}</code> with one.</>} URLs use <code>{base}</code>.
          </span>
        </p>
      </div>
    </section>
  );
}
