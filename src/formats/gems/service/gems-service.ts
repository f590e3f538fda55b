import { Readable } from 'node:stream';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { fullPathOf, type ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatServiceDeps } from '../../format-services.js';
import { readGemSpec } from '../gem-file.js';
import { gemPath, infoPath, NAMES_PATH, SPECS_FILES, VERSIONS_PATH } from '../gem-layout.js';
import { md5Hex, mergeInfo, mergeVersions, namesFile, newVersionsFile, parseVersions, specsFile, type SpecsKind } from '../index-files.js';
import { fullName, isValidGemName, isValidGemVersion, isValidPlatform } from '../names.js';

/** An index file as served: its bytes and when it last changed. */
export interface IndexFile {
  data: Buffer;
  modified: number;
}

/** Derived files (`names`, the specs) kept per source `versions` content, so a busy index is not remade per request. */
class DerivedCache {
  private readonly entries = new Map<string, Buffer>();
  get(key: string, make: () => Buffer): Buffer {
    let hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    hit = make();
    this.entries.set(key, hit);
    if (this.entries.size > 64) this.entries.delete(this.entries.keys().next().value!);
    return hit;
  }
}

const notFound = (message: string) => new ArcaError('NOT_FOUND', message);

/**
 * The RubyGems use cases of every gem repository (local, remote, virtual): the compact index
 * and the legacy specs, gem and quick-spec downloads, push and yank. Each takes the caller's
 * `Access` and checks it where it reads or writes. `cacheOnly`: `{remote}-cache` was
 * addressed, never ask the upstream. Built once per node from the format module.
 */
export class GemsService {
  private readonly derived = new DerivedCache();

  constructor(private readonly deps: FormatServiceDeps) {}

  private async requireReadable(access: Access, repo: RepoConfig): Promise<void> {
    if (!(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}'`);
  }

  /** A stored file's content (local item or remote cache). */
  private async content(repo: RepoConfig, item: ItemRow, user: string): Promise<IndexFile | undefined> {
    const data = await this.deps.packages.deploy.storeFor(repo, user).read(fullPathOf(item));
    return data ? { data, modified: item.modified } : undefined;
  }

  /** A non-virtual repository's own copy of `path` (a remote asks its upstream); undefined when it has none. */
  private async memberFile(access: Access, repo: RepoConfig, path: string, cacheOnly: boolean): Promise<IndexFile | undefined> {
    if (!(await access.can('read', repo, path))) return undefined;
    if (repo.rclass === 'remote') {
      try {
        const item = await this.deps.packages.remote.fetch(repo, path, { kind: 'metadata', user: access.user, cacheOnly });
        return await this.content(repo, item, access.user);
      } catch (err) {
        if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
        throw err;
      }
    }
    const item = await this.deps.artifacts.find(repo.key, path);
    return item?.type === 'file' ? this.content(repo, item, access.user) : undefined;
  }

  /** The gem members of a virtual repository, in resolution order. */
  private async members(repo: RepoConfig): Promise<RepoConfig[]> {
    return (await this.deps.packages.virtual.members(repo)).filter((m) => !m.blackedOut && m.packageType === 'gems');
  }

  /** Every member's copy of `path`; a failing upstream only drops its member's. */
  private async memberCopies(access: Access, repo: RepoConfig, path: string, cacheOnly: boolean): Promise<IndexFile[]> {
    const out: IndexFile[] = [];
    for (const m of await this.members(repo)) {
      try {
        const f = await this.memberFile(access, m, path, cacheOnly);
        if (f) out.push(f);
      } catch (err) {
        if (!isArcaError(err, 'UPSTREAM_FAILED')) throw err;
      }
    }
    return out;
  }

  /** `versions`: stored (local), proxied (remote) or merged from the members (virtual). */
  async versions(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<IndexFile> {
    await this.requireReadable(access, repo);
    if (repo.rclass !== 'virtual') {
      const f = await this.memberFile(access, repo, VERSIONS_PATH, cacheOnly);
      if (f) return f;
      if (repo.rclass === 'remote') throw notFound(`The upstream of '${repo.key}' has no compact index`);
      return { data: Buffer.from(newVersionsFile(0), 'utf8'), modified: 0 };
    }
    const copies = await this.memberCopies(access, repo, VERSIONS_PATH, cacheOnly);
    const modified = Math.max(0, ...copies.map((c) => c.modified));
    // Merged once per set of member files (a remote member's may be large).
    const key = `${repo.key}\nversions\n${modified}\n${copies.map((c) => md5Hex(c.data)).join(',')}`;
    const data = this.derived.get(key, () => Buffer.from(mergeVersions(copies.map((c) => c.data.toString('utf8')), modified), 'utf8'));
    return { data, modified };
  }

  /** `info/{name}`; NOT_FOUND when no member has the gem. */
  async info(access: Access, repo: RepoConfig, cacheOnly: boolean, name: string): Promise<IndexFile> {
    await this.requireReadable(access, repo);
    if (!isValidGemName(name)) throw notFound('This gem could not be found');
    const path = infoPath(name);
    const copies = repo.rclass === 'virtual' ? await this.memberCopies(access, repo, path, cacheOnly) : [await this.memberFile(access, repo, path, cacheOnly)].filter((f): f is IndexFile => f !== undefined);
    const live = copies.filter((c) => c.data.toString('utf8') !== '---\n');
    if (live.length === 0) throw notFound('This gem could not be found');
    if (live.length === 1) return live[0];
    return { data: Buffer.from(mergeInfo(live.map((c) => c.data.toString('utf8'))), 'utf8'), modified: Math.max(...live.map((c) => c.modified)) };
  }

  /** `names` and the `*specs.4.8.gz` files: a remote's upstream copy, else made from `versions`. */
  async derivedFile(access: Access, repo: RepoConfig, cacheOnly: boolean, file: typeof NAMES_PATH | keyof typeof SPECS_FILES): Promise<IndexFile> {
    await this.requireReadable(access, repo);
    if (repo.rclass === 'remote') {
      const f = await this.memberFile(access, repo, file, cacheOnly);
      if (!f) throw notFound(`The upstream of '${repo.key}' has no ${file}`);
      return f;
    }
    const versions = await this.versions(access, repo, cacheOnly);
    const data = this.derived.get(`${repo.key}\n${file}\n${md5Hex(versions.data)}`, () => {
      const index = parseVersions(versions.data.toString('utf8'));
      return file === NAMES_PATH ? Buffer.from(namesFile(index), 'utf8') : specsFile(index, SPECS_FILES[file] as SpecsKind);
    });
    return { data, modified: versions.modified };
  }

  /** A gem or quick spec (`gems/…`, `quick/Marshal.4.8/…`), stored or proxied; ITEM_NOT_FOUND when there is none. */
  async file(access: Access, repo: RepoConfig, cacheOnly: boolean, path: string): Promise<ItemRow> {
    await access.require('read', repo, path);
    const { packages, artifacts } = this.deps;
    const options = { kind: 'artifact' as const, user: access.user, cacheOnly };
    let item: ItemRow | undefined;
    if (repo.rclass === 'virtual') item = (await packages.virtual.resolve(repo, path, access, options))?.item;
    else if (repo.rclass === 'remote') {
      try {
        item = await packages.remote.fetch(repo, path, options);
      } catch (err) {
        if (!isArcaError(err, 'ITEM_NOT_FOUND')) throw err;
      }
    } else {
      const found = await artifacts.find(repo.key, path);
      item = found?.type === 'file' ? found : undefined;
    }
    if (!item) throw new ArcaError('ITEM_NOT_FOUND', `Could not find '${path}' in repository '${repo.key}'`);
    return item;
  }

  /** The local repository a push or yank through `addressed` goes to; remote repositories are read-only. */
  async writeTarget(addressed: RepoConfig, cacheOnly: boolean): Promise<RepoConfig> {
    if (addressed.rclass === 'remote' || cacheOnly) {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${addressed.key}' is read-only: push to a local repository instead`);
    }
    return addressed.rclass === 'virtual' ? this.deps.packages.virtual.deploymentRepo(addressed) : addressed;
  }

  /** `gem push`: the gem is checked whole (see the handler) and stored at `gems/{full}.gem`. */
  async push(access: Access, addressed: RepoConfig, cacheOnly: boolean, gem: Buffer): Promise<{ name: string; version: string; platform: string }> {
    const repo = await this.writeTarget(addressed, cacheOnly);
    const spec = await readGemSpec(gem);
    const path = gemPath(fullName(spec.name, spec.version, spec.platform));
    await this.deps.packages.deploy.deploy({
      repo,
      path,
      folder: false,
      body: Readable.from([gem]),
      expected: {},
      checksumDeploy: false,
      user: access.user,
      properties: { 'gem.name': [spec.name], 'gem.version': [spec.version], 'gem.platform': [spec.platform] },
      access,
    });
    return spec;
  }

  /** `gem yank`: the version's gem is deleted, and with it its index entries. */
  async yank(access: Access, addressed: RepoConfig, cacheOnly: boolean, name: string, version: string, platform: string): Promise<void> {
    const repo = await this.writeTarget(addressed, cacheOnly);
    if (!isValidGemName(name) || !isValidGemVersion(version) || !isValidPlatform(platform)) throw notFound('This gem could not be found');
    const path = gemPath(fullName(name, version, platform));
    await access.require('delete', repo, path);
    if (!(await this.deps.artifacts.find(repo.key, path))) {
      throw notFound(`The version ${version}${platform === 'ruby' ? '' : ` (${platform})`} does not exist.`);
    }
    await this.deps.packages.deploy.delete(repo, path, access);
  }
}
