import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { sha256Hex } from '../../../core/digests.js';
import { LruCache } from '../../../core/lru-cache.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatReadAnswer } from '../../format-handler.js';
import type { FormatServiceDeps } from '../../format-services.js';
import { isRpmType, REPODATA, REPOMD, SIGNATURE, underRoot } from '../layout.js';
import { closing, DATA_KINDS, dataHref, gzipMember, opening, openDigest, renderRepomd, type DataKind, type RepomdData } from '../repodata-files.js';
import { packageEntries, parseRepomd, type ListedFile } from '../repomd-parse.js';
import type { RemoteRepodata } from './remote-repodata.js';

/** Signs `data` with `repo`'s key (as repomd.xml.asc); `key` identifies the data for caching. */
export type SignRepomd = (repo: RepoConfig, data: Buffer, key: string, modified: number) => Promise<FormatReadAnswer<ItemRow>>;

const gunzipAsync = promisify(gunzip);

/** Largest data file of a member read (compressed), and what it may unpack to. */
const MAX_MEMBER_FILE = 256 * 1024 * 1024;
const MAX_MEMBER_OPEN = 1024 * 1024 * 1024;

/** A virtual repository's merged metadata for one set of member sources. */
interface View {
  repomd: Buffer;
  modified: number;
  /** Data files by name (`{sha256}-primary.xml.gz`). */
  files: Map<string, Buffer>;
  weight: number;
}

interface Source {
  member: RepoConfig;
  repomd: ItemRow;
  files: ListedFile[];
}

const FILE_NAMES: Record<DataKind, string> = { primary: 'primary.xml.gz', filelists: 'filelists.xml.gz', other: 'other.xml.gz' };

/**
 * A virtual RPM repository's `repodata/`: the package entries of its members' primary,
 * filelists and other documents one after the other (members in resolution order, each member
 * a gzip member of its own), in a repomd.xml signed by the virtual's own key. Packages keep
 * their members' locations, which the virtual resolves through its members. The first
 * member's group and modules files are passed on. The merge depends only on the members'
 * repomd.xml copies (its key), so every node makes the same bytes, and a client that read
 * repomd.xml from one node finds its data files on another. Views are kept in memory by key.
 */
export class VirtualRepodata {
  private readonly views = new LruCache<View>(256 * 1024 * 1024, (v) => v.weight);
  private readonly building = new Map<string, Promise<View>>();

  constructor(
    private readonly deps: FormatServiceDeps,
    private readonly remote: RemoteRepodata,
    private readonly sign: SignRepomd,
  ) {}

  async read(access: Access, repo: RepoConfig, root: string, name: string, cacheOnly: boolean): Promise<FormatReadAnswer<ItemRow>> {
    const view = await this.view(access, repo, root, cacheOnly);
    if (!view) return { kind: 'missing' };
    if (name === REPOMD) return { kind: 'bytes', data: view.repomd, modified: view.modified, type: 'application/xml' };
    if (name === SIGNATURE) return this.sign(repo, view.repomd, sha256Hex(view.repomd), view.modified);
    const data = view.files.get(name);
    return data ? { kind: 'bytes', data, modified: view.modified, type: name.endsWith('.gz') ? 'application/gzip' : 'application/xml' } : { kind: 'missing' };
  }

  private async sources(access: Access, repo: RepoConfig, root: string, cacheOnly: boolean): Promise<Source[]> {
    const path = underRoot(root, `${REPODATA}/${REPOMD}`);
    const out: Source[] = [];
    for (const member of await this.deps.packages.virtual.members(repo)) {
      if (member.blackedOut || !isRpmType(member.packageType) || !(await access.can('read', member, path))) continue;
      try {
        const repomd = member.rclass === 'remote' ? await this.remote.remoteRepomd(access, member, root, cacheOnly) : await this.deps.artifacts.find(member.key, path);
        if (repomd?.type !== 'file' || !repomd.sha1) continue;
        const files = parseRepomd(await this.remote.readItem(repomd, 8 * 1024 * 1024, member), `repomd.xml of '${member.key}'`).files;
        out.push({ member, repomd, files });
      } catch (err) {
        // A failing upstream, or one whose metadata is refused, only drops its member's packages.
        if (!isArcaError(err, 'UPSTREAM_FAILED') && !isArcaError(err, 'BAD_REQUEST')) throw err;
      }
    }
    return out;
  }

  private async view(access: Access, repo: RepoConfig, root: string, cacheOnly: boolean): Promise<View | undefined> {
    const sources = await this.sources(access, repo, root, cacheOnly);
    if (sources.length === 0) return undefined;
    const key = `${repo.key}\n${root}\n${sources.map((s) => `${s.member.key}:${s.repomd.sha1}`).join(' ')}`;
    const cached = this.views.get(key);
    if (cached) return cached;
    let running = this.building.get(key);
    if (!running) {
      running = this.build(access, root, sources, cacheOnly).finally(() => this.building.delete(key));
      this.building.set(key, running);
    }
    const view = await running;
    this.views.set(key, view);
    return view;
  }

  private async memberFile(access: Access, source: Source, root: string, file: ListedFile, cacheOnly: boolean): Promise<Buffer | undefined> {
    const { member } = source;
    const name = file.href.startsWith(`${REPODATA}/`) ? file.href.slice(REPODATA.length + 1) : undefined;
    if (!name || name.includes('/')) return undefined;
    const item = member.rclass === 'remote' ? await this.remote.remoteDataFile(access, member, root, name, cacheOnly) : await this.deps.artifacts.find(member.key, underRoot(root, file.href));
    if (item?.type !== 'file' || !item.sha1) return undefined;
    return this.remote.readItem(item, MAX_MEMBER_FILE, member);
  }

  private async build(access: Access, root: string, sources: Source[], cacheOnly: boolean): Promise<View> {
    const files = new Map<string, Buffer>();
    const listed: RepomdData[] = [];
    let weight = 0;
    const stamp = Math.max(...sources.map((s) => Math.max(0, ...s.files.map((f) => f.timestamp ?? 0))));
    for (const kind of DATA_KINDS) {
      const parts: Buffer[] = [];
      let total = 0;
      for (const source of sources) {
        const file = source.files.find((f) => f.type === kind);
        if (!file) continue;
        if (!file.href.endsWith('.gz')) continue; // Only gzip members are read (createrepo_c's default).
        const data = await this.memberFile(access, source, root, file, cacheOnly);
        if (!data) continue;
        let open: Buffer;
        try {
          open = await gunzipAsync(data, { maxOutputLength: MAX_MEMBER_OPEN });
        } catch (err) {
          throw new ArcaError('UPSTREAM_FAILED', `The ${kind} metadata of '${source.member.key}' cannot be unpacked: ${(err as Error).message}`);
        }
        const entries = packageEntries(kind, open.toString('utf8'), `${kind} metadata of '${source.member.key}'`);
        total += entries.count;
        if (entries.body) parts.push(await gzipMember(entries.body));
      }
      const data = Buffer.concat([await gzipMember(opening(kind, total)), ...parts, await gzipMember(closing(kind))]);
      const sha256 = sha256Hex(data);
      const open = await openDigest(data);
      const href = dataHref(sha256, FILE_NAMES[kind]);
      files.set(href.slice(REPODATA.length + 1), data);
      listed.push({ type: kind, href, sha256, size: data.length, openSha256: open.sha256, openSize: open.size, timestamp: stamp });
      weight += data.length;
    }
    // Group and modules files: the first member's that has them.
    for (const types of [['group', 'group_gz'], ['modules']]) {
      const source = sources.find((s) => s.files.some((f) => f.type === types[0]));
      if (!source) continue;
      for (const type of types) {
        const file = source.files.find((f) => f.type === type);
        if (!file) continue;
        const data = await this.memberFile(access, source, root, file, cacheOnly);
        if (!data) continue;
        const base = file.href.split('/').pop()!.replace(/^[0-9a-f]{32,128}-/, '');
        const sha256 = sha256Hex(data);
        const href = dataHref(sha256, base);
        files.set(href.slice(REPODATA.length + 1), data);
        listed.push({ type, href, sha256, size: data.length, timestamp: file.timestamp ?? stamp });
        weight += data.length;
      }
    }
    const repomd = Buffer.from(renderRepomd(stamp, listed), 'utf8');
    return { repomd, modified: stamp * 1000, files, weight: weight + repomd.length };
  }
}
