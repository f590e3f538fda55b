/**
 * The npm FormatHandler: what the generic `/artifactory/{repo}/{path}` routes do with npm
 * repositories. The npm client itself talks to `/api/npm/{repo}/` (routes/npm.ts).
 *
 * - `.npm/{name}/package.json` (package documents) is metadata; generic deploys there are
 *   refused, since the npm API keeps those documents.
 * - A tarball deployed at `{name}/-/{name}-{version}.tgz` (as `jf rt upload` does) must hold
 *   that package and version; it is then added to the package document, as a publish would.
 * - A generic delete of tarballs or package folders removes the versions whose tarballs are
 *   gone from the documents (a package without versions loses its document).
 *
 * These generic paths write documents through the RepoStore without the compare-and-swap of
 * the npm API (service/npm-store.ts): concurrent generic deploys of one package may lose a version in
 * its document; the npm API is the path for concurrent publishing.
 */
import { ArcaError } from '../../core/errors.js';
import type { FormatHandler, RepoStore } from '../format-handler.js';
import { applyPublish, removeVersions } from './document.js';
import { integrityOf, shasumOf } from './integrity.js';
import { documentPath, METADATA_FOLDER, parsePackageName, tarballPath, versionOfTarball } from './names.js';
import type { PackageDocument } from './packument.js';
import { parseSemver } from './semver.js';
import { readTarballManifest } from './tarball.js';

/** Largest tarball a generic deploy may index (it is read into memory to be checked). */
const MAX_INDEXED_TARBALL = 256 * 1024 * 1024;

/** The package and version a `{name}/-/{file}.tgz` path stands for, or undefined. */
function tarballOf(path: string): { name: string; version: string } | undefined {
  const parts = path.split('/');
  const dash = parts.indexOf('-');
  if (dash !== 1 && dash !== 2) return undefined;
  const name = parts.slice(0, dash).join('/');
  try {
    const pkg = parsePackageName(name);
    const version = versionOfTarball(pkg, parts.slice(dash + 1).join('/'));
    return version && parseSemver(version) && tarballPath(name, version) === path ? { name, version } : undefined;
  } catch {
    return undefined;
  }
}

async function readDocument(store: RepoStore, name: string): Promise<PackageDocument | undefined> {
  const data = await store.read(documentPath(name));
  return data ? (JSON.parse(data.toString('utf8')) as PackageDocument) : undefined;
}

/** Drops versions whose tarball is gone; removes the document when none is left. */
async function reconcile(store: RepoStore, name: string, now: string): Promise<void> {
  const doc = await readDocument(store, name);
  if (!doc) return;
  const gone: string[] = [];
  for (const v of Object.keys(doc.versions)) if (!(await store.exists(tarballPath(name, v)))) gone.push(v);
  if (gone.length === 0) return;
  if (gone.length === Object.keys(doc.versions).length) await store.delete(`${METADATA_FOLDER}/${name}`);
  else await store.write(documentPath(name), Buffer.from(JSON.stringify(removeVersions(doc, gone, now))), 'application/json');
}

export const npmHandler: FormatHandler = {
  packageTypes: ['npm'],

  classify(path) {
    return path === METADATA_FOLDER || path.startsWith(`${METADATA_FOLDER}/`) ? 'metadata' : 'artifact';
  },

  inspectLimit(path) {
    return tarballOf(path) ? MAX_INDEXED_TARBALL : undefined;
  },

  async beforeDeploy({ path, content }) {
    if (path === METADATA_FOLDER || path.startsWith(`${METADATA_FOLDER}/`)) {
      throw new ArcaError('FORBIDDEN', `'${path}' is npm metadata kept by the npm API; publish with npm (registry /api/npm/{repo}/) instead`);
    }
    const target = tarballOf(path);
    if (!target || !content) return;
    const inside = await readTarballManifest(content);
    if (inside.name !== target.name || inside.version !== target.version) {
      throw new ArcaError('BAD_REQUEST', `The tarball's package.json is ${String(inside.name)}@${String(inside.version)}, but the path is for ${target.name}@${target.version}`);
    }
  },

  async afterDeploy({ path, user, store }) {
    const target = tarballOf(path);
    if (!target) return;
    const data = await store.read(path);
    if (!data) return;
    const manifest = await readTarballManifest(data);
    const now = new Date().toISOString();
    let doc = await readDocument(store, target.name);
    if (doc?.versions[target.version]) doc = removeVersions(doc, [target.version], now);
    const dist = { integrity: integrityOf(data), shasum: shasumOf(data), tarball: path };
    const next = applyPublish(doc, { name: target.name, version: target.version, manifest: { ...manifest, name: target.name, version: target.version, dist }, distTags: {} }, { name: user }, now);
    await store.write(documentPath(target.name), Buffer.from(JSON.stringify(next)), 'application/json');
  },

  // Tarballs as a publish stores them (service/npm-store.ts).
  replicatedMediaType(path) {
    return tarballOf(path) ? 'application/x-compressed' : undefined;
  },

  // A replicated tarball is listed in its document unless the document (replicated on its own) lists it already.
  async afterReplication(change) {
    const { path, store } = change;
    if (change.deleted) return npmHandler.afterDelete!(change.repo, path, store);
    const target = tarballOf(path);
    if (!target || (await readDocument(store, target.name))?.versions[target.version]) return;
    await npmHandler.afterDeploy!({ ...change, sha1: '', size: 0 });
  },

  async afterDelete(_repo, path, store) {
    if (path === '' || path === METADATA_FOLDER || path.startsWith(`${METADATA_FOLDER}/`)) return;
    const now = new Date().toISOString();
    const parts = path.split('/');
    if (parts[0].startsWith('@') && parts.length === 1) {
      // A whole scope folder: every package document of the scope.
      for (const e of await store.list(`${METADATA_FOLDER}/${parts[0]}`)) if (e.folder) await reconcile(store, `${parts[0]}/${e.name}`, now);
      return;
    }
    const name = parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    await reconcile(store, name, now);
  },
};
