import { api, ApiError, artifactUrl, storageUrl } from '../api';
import { navigate } from '../router';
import { ErrorBox, formatDate, formatSize } from './common';
import { ConfirmButton } from './confirm-button';
import { DeployZone } from './deploy-zone';
import { DockerManifest, DockerTags } from './docker-panel';
import { useAsync } from './hooks';
import { ChartPanel, chartFileOf, CratePanel, crateFileOf, DebianPackagePanel, GemPanel, goFileOf, GoModulePanel, rpmFileOf, RpmPackagePanel } from './format-panels';
import { MavenPanel, mavenCoordinatesOf, npmPackageOf, NpmPackagePanel } from './package-panel';
import type { RepoSummary } from './setup-snippets';
import { browseHref } from './tree';

export interface ItemInfo {
  repo: string;
  path: string;
  created?: string;
  createdBy?: string;
  lastModified?: string;
  modifiedBy?: string;
  lastUpdated?: string;
  size?: string;
  mimeType?: string;
  checksums?: { sha1?: string; md5?: string; sha256?: string };
  remoteUrl?: string;
  children?: Array<{ uri: string; folder: boolean }>;
}

async function loadProperties(repo: string, path: string, signal: AbortSignal): Promise<Record<string, string[]>> {
  try {
    const r = await api<{ properties: Record<string, string[]> }>(`${storageUrl(repo, path)}?properties`, { signal });
    return r.properties ?? {};
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return {};
    throw err;
  }
}

function Properties({ repo, path, version }: { repo: string; path: string; version: number }) {
  const props = useAsync((signal) => loadProperties(repo, path, signal), `${repo}/${path}#${version}`);
  const entries = Object.entries(props.data ?? {});
  return (
    <section className="card" aria-labelledby="props-title">
      <h2 id="props-title">Properties</h2>
      <ErrorBox error={props.error} />
      {props.data && entries.length === 0 && <p className="muted">No properties.</p>}
      {entries.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Values</th>
            </tr>
          </thead>
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{v.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Delete with an inline confirmation (no native dialog), then back to the parent folder. */
function DeleteButton({ repo, path, onDeleted }: { repo: string; path: string; onDeleted: () => void }) {
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  return (
    <ConfirmButton
      label="Delete"
      inline
      groupLabel="Confirm deletion"
      question={
        <>
          Delete <code>{path}</code>?
        </>
      }
      onConfirm={async () => {
        await api(artifactUrl(repo, path), { method: 'DELETE' });
        onDeleted();
        navigate(browseHref(repo, parent));
      }}
    />
  );
}

function FileDetails({ info, repo, version }: { info: ItemInfo; repo: RepoSummary; version: number }) {
  const path = info.path.replace(/^\//, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  const type = repo.packageType.toLowerCase();
  const npmName = type === 'npm' ? npmPackageOf(path) : undefined;
  const maven = type === 'maven' || type === 'gradle' ? mavenCoordinatesOf(path) : undefined;
  const docker = (type === 'docker' || type === 'oci') && /(^|\/)(list\.)?manifest\.json$/.test(path);
  const goFile = type === 'go' ? goFileOf(path) : undefined;
  const crate = type === 'cargo' ? crateFileOf(path) : undefined;
  const gem = type === 'gems' && path.startsWith('gems/') && path.endsWith('.gem');
  const chart = type === 'helm' ? chartFileOf(path) : undefined;
  const deb = type === 'debian' && path.endsWith('.deb');
  const rpm = type === 'rpm' || type === 'yum' ? rpmFileOf(path) : undefined;
  return (
    <>
      <section className="card" aria-labelledby="file-title">
        <h2 id="file-title">{name}</h2>
        <dl className="props" data-testid="file-info">
          <dt>Repository path</dt>
          <dd>
            {repo.key}/{path}
          </dd>
          <dt>Size</dt>
          <dd>
            {formatSize(Number(info.size))} ({info.size} bytes)
          </dd>
          <dt>MIME type</dt>
          <dd>{info.mimeType}</dd>
          <dt>Created</dt>
          <dd>
            {formatDate(info.created)} by {info.createdBy}
          </dd>
          <dt>Last modified</dt>
          <dd>
            {formatDate(info.lastModified)} by {info.modifiedBy}
          </dd>
          {info.remoteUrl && (
            <>
              <dt>Remote URL</dt>
              <dd>{info.remoteUrl}</dd>
            </>
          )}
          <dt>SHA-256</dt>
          <dd className="mono">{info.checksums?.sha256}</dd>
          <dt>SHA-1</dt>
          <dd className="mono">{info.checksums?.sha1}</dd>
          <dt>MD5</dt>
          <dd className="mono">{info.checksums?.md5 ?? <span className="muted">being computed</span>}</dd>
        </dl>
        <p className="toolbar">
          <a className="button" href={artifactUrl(repo.key, path)} download={name}>
            Download {name}
          </a>
        </p>
      </section>
      <Properties repo={repo.key} path={path} version={version} />
      {npmName && <NpmPackagePanel repo={repo.key} name={npmName} />}
      {maven && <MavenPanel c={maven} />}
      {docker && <DockerManifest repo={repo.key} path={path} />}
      {goFile && <GoModulePanel repo={repo.key} module={goFile.module} version={goFile.version} />}
      {crate && <CratePanel repo={repo.key} name={crate.name} version={crate.version} />}
      {gem && <GemPanel repo={repo.key} path={path} />}
      {chart && <ChartPanel repo={repo.key} name={chart.name} version={chart.version} />}
      {deb && <DebianPackagePanel repo={repo.key} path={path} />}
      {rpm && <RpmPackagePanel repo={repo.key} {...rpm} />}
    </>
  );
}

function FolderDetails({ info, repo, onChanged }: { info: ItemInfo; repo: RepoSummary; onChanged: () => void }) {
  const path = info.path.replace(/^\/+|\/+$/g, '');
  const children = info.children ?? [];
  const type = repo.packageType.toLowerCase();
  const npmName = type === 'npm' && path ? npmPackageOf(path) : undefined;
  return (
    <>
      {/* Remote repositories take no deploys; Docker images are pushed through the registry API. */}
      {repo.type !== 'REMOTE' && type !== 'docker' && type !== 'oci' && (
        <section className="card" aria-labelledby="deploy-title">
          <h2 id="deploy-title">Deploy</h2>
          <DeployZone repo={repo.key} folder={path} onDeployed={onChanged} />
        </section>
      )}
      <section className="card" aria-labelledby="children-title">
        <h2 id="children-title">{path ? `${path}/` : 'Contents'}</h2>
        {children.length === 0 ? (
          <p className="muted">This folder is empty.</p>
        ) : (
          <ul>
            {children.map((c) => {
              const name = c.uri.replace(/^\//, '');
              return (
                <li key={name}>
                  <a
                    href={`/ui${browseHref(repo.key, path ? `${path}/${name}` : name)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(browseHref(repo.key, path ? `${path}/${name}` : name));
                    }}
                  >
                    {c.folder ? `${name}/` : name}
                  </a>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      {npmName && <NpmPackagePanel repo={repo.key} name={npmName} />}
      {(type === 'docker' || type === 'oci') && path && <DockerTags repo={repo.key} image={path} />}
    </>
  );
}

/** The selected item: a file's facts, properties and download link, or a folder's contents and deploy zone. */
export function ItemDetails({ repo, path, version, onChanged }: { repo: RepoSummary; path: string; version: number; onChanged: () => void }) {
  const item = useAsync((signal) => api<ItemInfo>(storageUrl(repo.key, path), { signal }), `${repo.key}/${path}#${version}`);
  const info = item.data;
  return (
    <div>
      <ErrorBox error={item.error} />
      {info && (
        <>
          {path !== '' && (
            <p className="toolbar">
              <DeleteButton repo={repo.key} path={path} onDeleted={onChanged} />
            </p>
          )}
          {info.children ? <FolderDetails info={info} repo={repo} onChanged={onChanged} /> : <FileDetails info={info} repo={repo} version={version} />}
        </>
      )}
    </div>
  );
}
