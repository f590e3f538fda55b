import { Readable } from 'node:stream';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { fullPathOf, type ItemRow } from '../../../db/items.js';
import { Access, SYSTEM_ACCESS, type AccessDecider } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatServiceDeps } from '../../format-services.js';
import type { VersionRecord } from '../cargo-handler.js';
import { inspectCrate } from '../crate-inspector.js';
import { downloadUrl, hasChecksumMarker } from '../download-url.js';
import { compareVersions, crateNameProblem, cratePath, CRATE_FOLDER, INDEX_FOLDER, indexPath, parseVersion, recordPath, storedIndexPath } from '../names.js';
import { parseIndexLines, parsePublishMetadata, splitPublishBody, type IndexLine } from '../publish.js';

/**
 * The caller's permissions with deleting refused: a deploy then never replaces an existing
 * file, since a published crate version is immutable even for a caller who may overwrite.
 */
function createOnly(caller: Access): Access {
  const decider: AccessDecider = {
    canAccess: (_p, action, repo, path) => (action === 'delete' ? Promise.resolve(false) : caller.can(action, repo, path)),
    canReadAny: (_p, repo) => caller.canReadAny(repo),
    canReadAll: (_p, repo) => caller.canReadAll(repo),
    holdsAny: (_p, repo) => caller.holdsAny(repo),
    canAny: (_p, action, repo) => (action === 'delete' ? Promise.resolve(false) : caller.canAny(action, repo)),
  };
  return new Access(caller.principal, decider, async () => false);
}

/** One crate as `/api/v1/crates?q=` lists it. */
export interface SearchHit {
  name: string;
  max_version: string;
  description: string | null;
}

const REMOTE_CONFIG = `${INDEX_FOLDER}/config.json`;
const notFound = (what: string) => new ArcaError('NOT_FOUND', what);
/** A version without its build metadata: cargo treats `1.0.0+a` and `1.0.0+b` as one version. */
const withoutBuild = (v: string) => v.replace(/\+.*$/, '');

/**
 * The Cargo use cases of every Cargo repository (local, remote, virtual): index files, crate
 * downloads, publish, yank and search. Each takes the caller's `Access` and decides itself.
 * `cacheOnly`: `{remote}-cache` was addressed, never ask the upstream. A remote's `url` is
 * the upstream's sparse index (what follows `sparse+` in a cargo configuration).
 */
export class CargoService {
  constructor(private readonly deps: FormatServiceDeps) {}

  /** Refused unless the caller may read something in `repo`. */
  async requireReader(access: Access, repo: RepoConfig): Promise<void> {
    if (!(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}'`);
  }

  /** The local repository a publish or yank through `addressed` changes; remote repositories are read-only. */
  async uploadTarget(addressed: RepoConfig, cacheOnly: boolean): Promise<RepoConfig> {
    if (addressed.rclass === 'remote' || cacheOnly) {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${addressed.key}' is read-only: publish to a local repository instead`);
    }
    const target = addressed.rclass === 'virtual' ? await this.deps.packages.virtual.deploymentRepo(addressed) : addressed;
    if (target.blackedOut) throw new ArcaError('FORBIDDEN', `Repository '${target.key}' is blacked out`);
    return target;
  }

  // --- index -------------------------------------------------------------------------------

  /** The index lines of crate `name` in `repo` as the caller sees them; undefined when it has none. */
  async indexLines(access: Access, repo: RepoConfig, cacheOnly: boolean, name: string): Promise<IndexLine[] | undefined> {
    await this.requireReader(access, repo);
    if (repo.rclass !== 'virtual') return this.memberLines(access, repo, cacheOnly, name);
    const byVersion = new Map<string, IndexLine>();
    let found = false;
    for (const member of await this.deps.packages.virtual.members(repo)) {
      if (member.blackedOut || member.packageType !== 'cargo') continue;
      let lines: IndexLine[] | undefined;
      try {
        lines = await this.memberLines(access, member, cacheOnly, name);
      } catch (err) {
        // A failing upstream only drops its member's versions.
        if (isArcaError(err, 'UPSTREAM_FAILED')) continue;
        throw err;
      }
      if (!lines) continue;
      found = true;
      // The first member listing a version wins: locals come first, as downloads resolve.
      for (const l of lines) if (!byVersion.has(withoutBuild(l.vers))) byVersion.set(withoutBuild(l.vers), l);
    }
    if (!found) return undefined;
    return [...byVersion.values()].sort((a, b) => compareVersions(a.vers, b.vers));
  }

  private async memberLines(access: Access, repo: RepoConfig, cacheOnly: boolean, name: string): Promise<IndexLine[] | undefined> {
    const path = storedIndexPath(name);
    if (!(await access.can('read', repo, path))) return undefined;
    let data: Buffer | undefined;
    if (repo.rclass === 'remote') {
      const item = await this.remoteFile(repo, path, indexPath(name), cacheOnly, access.user);
      data = item && (await this.read(repo, item));
    } else {
      data = await this.deps.packages.deploy.storeFor(repo, access.user).read(path);
    }
    return data === undefined ? undefined : parseIndexLines(data.toString('utf8'));
  }

  private read(repo: RepoConfig, item: ItemRow): Promise<Buffer | undefined> {
    return this.deps.packages.deploy.storeFor(repo, SYSTEM_ACCESS.user).read(fullPathOf(item));
  }

  /** A remote's cached (or freshly fetched) upstream file; undefined when the upstream has none. */
  private async remoteFile(repo: RepoConfig, path: string, upstreamPath: string, cacheOnly: boolean, user: string): Promise<ItemRow | undefined> {
    try {
      return await this.deps.packages.remote.fetch(repo, path, { upstreamPath, kind: 'metadata', user, cacheOnly });
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  // --- download ----------------------------------------------------------------------------

  /** The `.crate` of `name`@`version`, stored or proxied; refused unless the caller may read it. */
  async crate(access: Access, repo: RepoConfig, cacheOnly: boolean, name: string, version: string): Promise<ItemRow> {
    if (crateNameProblem(name) !== undefined || !parseVersion(version)) throw notFound(`No crate ${name}@${version}`);
    const path = cratePath(name, version);
    await access.require('read', repo, path);
    const missing = () => new ArcaError('ITEM_NOT_FOUND', `Could not find crate ${name}@${version} in repository '${repo.key}'`);
    if (repo.rclass !== 'virtual') {
      const item = await this.memberCrate(access, repo, cacheOnly, name, version);
      if (!item) throw missing();
      return item;
    }
    for (const member of await this.deps.packages.virtual.members(repo)) {
      if (member.blackedOut || member.packageType !== 'cargo' || !(await access.can('read', member, path))) continue;
      try {
        const item = await this.memberCrate(access, member, cacheOnly, name, version);
        if (item) return item;
      } catch (err) {
        if (!isArcaError(err, 'UPSTREAM_FAILED')) throw err;
      }
    }
    throw missing();
  }

  private async memberCrate(access: Access, repo: RepoConfig, cacheOnly: boolean, name: string, version: string): Promise<ItemRow | undefined> {
    const path = cratePath(name, version);
    if (repo.rclass === 'local') {
      const item = await this.deps.artifacts.find(repo.key, path);
      return item?.type === 'file' ? item : undefined;
    }
    const remote = this.deps.packages.remote;
    // A crate never changes: a cached copy is served without asking the upstream, even after the upstream lost it.
    const cached = await remote.cached(repo, path);
    if (cached || cacheOnly) return cached;
    const configItem = await this.remoteFile(repo, REMOTE_CONFIG, 'config.json', cacheOnly, access.user);
    const config = configItem && (await this.read(repo, configItem));
    let dl: unknown;
    try {
      dl = config && (JSON.parse(config.toString('utf8')) as { dl?: unknown }).dl;
    } catch {
      dl = undefined;
    }
    if (typeof dl !== 'string' || !URL.canParse(dl.replaceAll(/\{[a-z0-9-]+\}/g, 'x'))) {
      throw new ArcaError('UPSTREAM_FAILED', `The upstream index of '${repo.key}' has no usable config.json (its 'dl' download URL)`);
    }
    // The upstream's line of the version: its cksum is checked against the crate fetched (and
    // may be part of the download URL).
    const line = (await this.memberLines(SYSTEM_ACCESS, repo, cacheOnly, name))?.find((l) => l.vers === version);
    if (!line && hasChecksumMarker(dl)) return undefined;
    const url = downloadUrl(dl, name, version, line?.cksum ?? '');
    const slash = url.lastIndexOf('/');
    let item: ItemRow;
    try {
      // The crate lives where `dl` says, which may be another host than the index.
      item = await remote.fetch({ ...repo, url: url.slice(0, slash) }, path, { upstreamPath: url.slice(slash + 1), kind: 'artifact', user: access.user });
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
    if (line && item.sha256 !== line.cksum) {
      // Never cached: cargo would refuse it, and the next request fetches it again.
      await this.deps.artifacts.delete(repo.key, path);
      throw new ArcaError('UPSTREAM_FAILED', `The upstream of '${repo.key}' sent crate ${name}@${version} with sha256 ${item.sha256 ?? '?'}, but its index says ${line.cksum}`);
    }
    return item;
  }

  // --- publish and yank --------------------------------------------------------------------

  /**
   * `cargo publish`: checks the body (lengths, metadata, the crate's tar and manifest), refuses
   * a version that exists already, stores the crate and then its version record; the index
   * file is regenerated by the format's hooks under the repository's cluster lock.
   */
  async publish(access: Access, addressed: RepoConfig, cacheOnly: boolean, body: Buffer): Promise<{ name: string; vers: string }> {
    const target = await this.uploadTarget(addressed, cacheOnly);
    const { metadata, crate } = splitPublishBody(body);
    const pub = parsePublishMetadata(metadata, crate);
    const path = cratePath(pub.name, pub.vers);
    await access.require('write', target, path);
    this.deps.artifacts.checkDeployable(target, path);
    await inspectCrate(crate, pub.name, pub.vers);
    const store = this.deps.packages.deploy.storeFor(target, access.user);
    const current = await store.read(storedIndexPath(pub.name));
    for (const line of current ? parseIndexLines(current.toString('utf8')) : []) {
      if (line.name !== pub.name) throw new ArcaError('CONFLICT', `A crate named '${line.name}' exists already; crate names differ by more than case`);
      if (withoutBuild(line.vers) === withoutBuild(pub.vers)) throw new ArcaError('CONFLICT', `crate version \`${pub.name}@${line.vers}\` is already uploaded`);
    }
    if (await store.exists(path)) throw new ArcaError('CONFLICT', `crate version \`${pub.name}@${pub.vers}\` is already uploaded`);
    const deploy = this.deps.packages.deploy;
    try {
      await deploy.deploy({
        repo: target,
        path,
        folder: false,
        body: Readable.from([crate]),
        expected: { sha256: pub.line.cksum },
        properties: { 'cargo.name': [pub.name], 'cargo.version': [pub.vers] },
        checksumDeploy: false,
        user: access.user,
        // The deploy's own overwrite check runs in its transaction: of two concurrent publishes
        // of one version (on two nodes, say), the second is refused there.
        access: createOnly(access),
      });
    } catch (err) {
      if (isArcaError(err, 'FORBIDDEN') && (await store.exists(path))) throw new ArcaError('CONFLICT', `crate version \`${pub.name}@${pub.vers}\` is already uploaded`);
      throw err;
    }
    const record: VersionRecord = { line: pub.line, ...(pub.description ? { description: pub.description } : {}) };
    await this.writeRecord(target, pub.name, pub.vers, record, access.user);
    return { name: pub.name, vers: pub.vers };
  }

  /** Stores a version record (on the node's account: the caller's change was allowed already). */
  private async writeRecord(target: RepoConfig, name: string, version: string, record: VersionRecord, user: string): Promise<void> {
    await this.deps.packages.deploy.deploy({
      repo: target,
      path: recordPath(name, version),
      folder: false,
      body: Readable.from([Buffer.from(JSON.stringify(record))]),
      expected: {},
      properties: {},
      checksumDeploy: false,
      user,
      access: SYSTEM_ACCESS,
    });
  }

  /** `cargo yank` (`yanked` true) and `cargo yank --undo`: needs delete permission on the crate. */
  async setYanked(access: Access, addressed: RepoConfig, cacheOnly: boolean, name: string, version: string, yanked: boolean): Promise<void> {
    const target = await this.uploadTarget(addressed, cacheOnly);
    if (crateNameProblem(name) !== undefined || !parseVersion(version)) throw notFound(`No crate ${name}@${version}`);
    await access.require('delete', target, cratePath(name, version));
    const store = this.deps.packages.deploy.storeFor(target, access.user);
    const data = (await store.exists(cratePath(name, version))) ? await store.read(recordPath(name, version)) : undefined;
    if (!data) throw notFound(`crate \`${name}\` does not have a version \`${version}\``);
    const record = JSON.parse(data.toString('utf8')) as VersionRecord;
    if (record.line.name !== name) throw notFound(`crate \`${name}\` does not exist (it is named \`${record.line.name}\`)`);
    if (record.line.yanked === yanked) return;
    record.line = { ...record.line, yanked };
    await this.writeRecord(target, name, version, record, access.user);
  }

  // --- search ------------------------------------------------------------------------------

  /**
   * `cargo search`: crates whose name holds `query`, in the local repository or the local
   * members of a virtual one (remote members are not searched), `perPage` at most. Reads one
   * index file and one record per crate listed, never the whole repository.
   */
  async search(access: Access, repo: RepoConfig, query: string, perPage: number): Promise<{ crates: SearchHit[]; total: number }> {
    await this.requireReader(access, repo);
    const needle = query.toLowerCase().replace(/[^a-z0-9_-]/g, '');
    const members = repo.rclass === 'virtual' ? await this.deps.packages.virtual.members(repo) : [repo];
    const hits = new Map<string, SearchHit>();
    let total = 0;
    for (const member of members) {
      if (member.rclass !== 'local' || member.blackedOut || member.packageType !== 'cargo') continue;
      const db = this.deps.database.db;
      const matching = db
        .selectFrom('items')
        .where('repo', '=', member.key)
        .where('path', '=', CRATE_FOLDER)
        .where('type', '=', 'folder')
        .where('name', 'like', `%${needle}%`);
      total += Number((await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
      const names = await matching.select('name').orderBy('name').limit(perPage).execute();
      for (const { name } of names) {
        if (hits.size >= perPage || hits.has(name) || !name.includes(needle)) continue;
        const lines = (await this.memberLines(access, member, false, name)) ?? [];
        const live = lines.filter((l) => !l.yanked);
        const latest = (live.length > 0 ? live : lines).at(-1);
        if (!latest) continue;
        const record = await this.deps.packages.deploy.storeFor(member, access.user).read(recordPath(name, latest.vers));
        let description: string | null = null;
        try {
          description = record ? ((JSON.parse(record.toString('utf8')) as VersionRecord).description ?? null) : null;
        } catch {
          description = null;
        }
        hits.set(name, { name: latest.name, max_version: latest.vers, description });
      }
    }
    return { crates: [...hits.values()], total };
  }
}
