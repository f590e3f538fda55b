import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { inflateBounded } from '../../../core/bounded-inflate.js';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { LruCache } from '../../../core/lru-cache.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatReads, RepoStore } from '../../format-handler.js';
import type { FormatServiceDeps } from '../../format-services.js';
import { parseDistsPath, type DistsPath } from '../layout.js';
import { EMPTY_GZ, readBlob, readState, sumsOf, type DistState, type Generation } from '../package-index.js';
import { clearsignedText, mergePackages, releaseField, releaseFiles, renderRelease, type FileSums } from '../release.js';
import { MAX_UPSTREAM_INDEX_BYTES } from './limits.js';
import { PoolSums } from './pool-sums.js';
import { bytesAnswer, hashOf, notFound, pathOf, TEXT, type DistsAnswer } from './answers.js';

export type { DistsAnswer } from './answers.js';

const gzip = promisify(gzipCb);

export { MAX_UPSTREAM_INDEX_BYTES } from './limits.js';
const MAX_RELEASE_BYTES = 16 * 1024 * 1024;

/** The repository field holding the armored public keys an upstream's Release must be signed by. */
export const UPSTREAM_KEYS_FIELD = 'debianUpstreamPublicKeys';

/** One member's view of a distribution, for merging in a virtual repository. */
interface MemberDist {
  key: string;
  release: string;
  /** `{comp}/binary-{arch}` → the Packages text. */
  packages(compArch: string): Promise<Buffer | undefined>;
}

/** A virtual repository's merged distribution. */
interface MergedDist {
  release: string;
  modified: number;
  files: Map<string, Buffer>;
}

/**
 * The `dists/` files of every Debian repository, as apt reads them:
 * - local: served from the distribution's state (package-index.ts): Release as stored,
 *   InRelease and Release.gpg signed with the repository's key on first read (kept by the
 *   Release's checksum and the key), Packages streamed from its buckets, older generations
 *   by hash;
 * - remote: the upstream's files, cached by the remote fetch rules; the Release (InRelease, or
 *   Release with Release.gpg) checked against the keys in `debianUpstreamPublicKeys` when the
 *   repository has any, and each Packages file checked against the Release's SHA256;
 * - virtual: the members' Packages merged per component and architecture (first member wins
 *   for a package, version and architecture), with a Release of its own signed with the
 *   virtual repository's key.
 */
export class DebianService {
  private readonly signatures = new LruCache<string>(4 * 1024 * 1024, (s) => s.length);
  private readonly merged = new LruCache<MergedDist>(256 * 1024 * 1024, (m) => [...m.files.values()].reduce((n, b) => n + b.length, m.release.length));

  private readonly pool: PoolSums;
  /** Per virtual repository and distribution, the cache keys of its last merges (newest first). */
  private readonly recentMerges = new LruCache<string[]>(10_000);

  constructor(private readonly deps: FormatServiceDeps) {
    this.pool = new PoolSums(deps.content, deps.artifacts);
  }

  /**
   * The `dists/` files at `/artifactory/{repo}/` too (a sources.list written without `api/deb`),
   * streamed as the Debian route streams them (FormatModule.reads).
   */
  reads(): FormatReads<Access, ItemRow> {
    return {
      handles: (_repo, path) => path === 'dists' || path.startsWith('dists/'),
      read: async ({ repo, path, cacheOnly, access }) => {
        const p = parseDistsPath(path);
        return p ? this.dists(access, repo as RepoConfig, cacheOnly, p) : { kind: 'missing' };
      },
    };
  }

  /** See PoolSums.check. */
  checkPoolFile(item: ItemRow): Promise<void> {
    return this.pool.check(item);
  }

  private store(repo: RepoConfig): RepoStore {
    return this.deps.packages.deploy.storeFor(repo, '_system');
  }

  /** A `dists/` file of `repo`; refused unless the caller may read it. */
  async dists(access: Access, repo: RepoConfig, cacheOnly: boolean, p: DistsPath): Promise<DistsAnswer> {
    const path = pathOf(p);
    if (repo.rclass === 'local') {
      await access.require('read', repo, path);
      return this.localDists(repo, p);
    }
    if (repo.rclass === 'remote') {
      await access.require('read', repo, path);
      return this.remoteDists(access, repo, cacheOnly, p);
    }
    return this.virtualDists(access, repo, cacheOnly, p);
  }

  private async sign(repo: RepoConfig, release: string, file: 'InRelease' | 'Release.gpg'): Promise<string> {
    const signer = await this.deps.signing.forRepository(repo.key);
    const key = `${repo.key}\0${signer.fingerprint}\0${createHash('sha1').update(release).digest('hex')}\0${file}`;
    let s = this.signatures.get(key);
    if (!s) {
      s = file === 'InRelease' ? await signer.clearsign(release) : await signer.detachSign(release);
      this.signatures.set(key, s);
    }
    return s;
  }

  private async releaseAnswer(repo: RepoConfig, release: string, modified: number, file: 'Release' | 'InRelease' | 'Release.gpg'): Promise<DistsAnswer> {
    if (file === 'Release') return bytesAnswer(Buffer.from(release, 'utf8'), modified, TEXT);
    let signed: string;
    try {
      signed = await this.sign(repo, release, file);
    } catch (err) {
      if (err instanceof ArcaError) throw err;
      // No key store on this node: the distribution is served unsigned (apt then reads Release alone).
      throw new ArcaError('ITEM_NOT_FOUND', `No ${file} for '${repo.key}': metadata signing is unavailable (${(err as Error).message})`);
    }
    return bytesAnswer(Buffer.from(signed, 'utf8'), modified, file === 'InRelease' ? TEXT : 'application/pgp-signature');
  }

  private async localDists(repo: RepoConfig, p: DistsPath): Promise<DistsAnswer> {
    const store = this.store(repo);
    const state = await readState(store, p.dist);
    if (!state) throw notFound(repo.key, pathOf(p));
    const modified = Date.parse(state.date);
    if (p.kind === 'release') return this.releaseAnswer(repo, state.release, modified, p.file);
    const arch = state.components[p.comp]?.[p.arch];
    if (!arch) throw notFound(repo.key, pathOf(p));
    if (p.kind === 'packages') return this.generationAnswer(store, p.dist, arch.current, p.file === 'Packages.gz', modified);
    for (const g of [arch.current, ...arch.previous]) {
      if (hashOf(g.packages, p.algorithm) === p.hash) return this.generationAnswer(store, p.dist, g, false, modified);
      if (hashOf(g.gz, p.algorithm) === p.hash) return this.generationAnswer(store, p.dist, g, true, modified);
    }
    throw notFound(repo.key, pathOf(p));
  }

  private generationAnswer(store: RepoStore, dist: string, g: Generation, gz: boolean, modified: number): DistsAnswer {
    const ids = Object.keys(g.buckets).sort();
    return {
      kind: 'stream',
      sums: gz ? g.gz : g.packages,
      modified,
      type: gz ? 'application/gzip' : TEXT,
      parts: async function* () {
        if (gz && ids.length === 0) yield EMPTY_GZ;
        for (const id of ids) yield await readBlob(store, dist, gz ? g.buckets[id].gz : g.buckets[id].text);
      },
    };
  }

  // ---- remote -------------------------------------------------------------------------

  private async fetchText(access: Access, repo: RepoConfig, cacheOnly: boolean, path: string, limit: number): Promise<{ data: Buffer; item: ItemRow } | undefined> {
    const item = await this.fetchItem(access, repo, cacheOnly, path);
    return item && { data: await this.readItem(repo, item, limit), item };
  }

  private async readItem(repo: RepoConfig, item: ItemRow, limit: number): Promise<Buffer> {
    const { content } = this.deps;
    const tooLarge = () => new ArcaError('UPSTREAM_FAILED', `'${repo.key}/${item.path ?? item.name}' is larger than ${limit} bytes`);
    if (Number(item.size) > limit) throw tooLarge();
    return Number(item.size) <= content.smallFileLimit ? content.readSmall(item.sha1!) : readBounded(await content.read(item.sha1!), limit, tooLarge);
  }

  /** The upstream's Release text of `dist`, checked against the configured keys; undefined when the upstream has none. */
  private async upstreamRelease(access: Access, repo: RepoConfig, cacheOnly: boolean, dist: string): Promise<{ text: string; modified: number; signed?: { inRelease?: Buffer; gpg?: Buffer } } | undefined> {
    const keys = typeof repo[UPSTREAM_KEYS_FIELD] === 'string' && (repo[UPSTREAM_KEYS_FIELD] as string).trim() !== '' ? (repo[UPSTREAM_KEYS_FIELD] as string) : undefined;
    const inRelease = await this.fetchText(access, repo, cacheOnly, `dists/${dist}/InRelease`, MAX_RELEASE_BYTES);
    if (inRelease) {
      const text = inRelease.data.toString('utf8');
      if (keys) {
        const signed = await this.deps.signing.verifyClearsigned(text, keys);
        if (signed === null) throw new ArcaError('UPSTREAM_FAILED', `The InRelease of '${dist}' from the upstream of '${repo.key}' is not signed by a key in ${UPSTREAM_KEYS_FIELD}`);
        return { text: signed, modified: inRelease.item.modified, signed: { inRelease: inRelease.data } };
      }
      return { text: clearsignedText(text), modified: inRelease.item.modified, signed: { inRelease: inRelease.data } };
    }
    const release = await this.fetchText(access, repo, cacheOnly, `dists/${dist}/Release`, MAX_RELEASE_BYTES);
    if (!release) return undefined;
    const gpg = await this.fetchText(access, repo, cacheOnly, `dists/${dist}/Release.gpg`, 1024 * 1024);
    if (keys) {
      const good = gpg ? await this.deps.signing.verifyDetached(release.data, gpg.data.toString('utf8'), keys) : false;
      if (!good) throw new ArcaError('UPSTREAM_FAILED', `The Release of '${dist}' from the upstream of '${repo.key}' has no good signature by a key in ${UPSTREAM_KEYS_FIELD}`);
    }
    return { text: release.data.toString('utf8'), modified: release.item.modified, signed: { gpg: gpg?.data } };
  }

  /** Fetches an upstream file as metadata; undefined when the upstream has none. */
  private async fetchItem(access: Access, repo: RepoConfig, cacheOnly: boolean, path: string): Promise<ItemRow | undefined> {
    try {
      return await this.deps.packages.remote.fetch(repo, path, { kind: 'metadata', user: access.user, cacheOnly });
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /**
   * An upstream index file named by the (checked) Release, its size and SHA256 checked against
   * the Release with the checksums the content store computed while caching it (nothing is read).
   */
  private async upstreamIndex(access: Access, repo: RepoConfig, cacheOnly: boolean, dist: string, rel: string, release: string): Promise<ItemRow | undefined> {
    const listed = releaseFiles(release).get(rel);
    if (!listed) return undefined;
    const path = `dists/${dist}/${rel}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const item = await this.fetchItem(access, repo, cacheOnly, path);
      if (!item?.sha1) return undefined;
      const good = Number(item.size) === listed.size && (listed.sha256 && item.sha256 ? listed.sha256 === item.sha256 : listed.sha1 ? listed.sha1 === item.sha1 : false);
      if (good) return item;
      // The cached copy is of another Release: drop it and ask the upstream again once.
      await this.deps.artifacts.delete(repo.key, path).catch(() => undefined);
      if (cacheOnly) break;
    }
    throw new ArcaError('UPSTREAM_FAILED', `'${path}' from the upstream of '${repo.key}' does not match the checksums of its Release`);
  }

  /** A cached item, streamed from the content store. */
  private itemAnswer(item: ItemRow, type: string): DistsAnswer {
    const { content } = this.deps;
    const sha1 = item.sha1!;
    const size = Number(item.size);
    return {
      kind: 'stream',
      sums: { size, sha1, sha256: item.sha256 ?? '', md5: item.md5 ?? '' },
      modified: item.modified,
      type,
      parts: async function* () {
        if (size <= content.smallFileLimit) {
          yield await content.readSmall(sha1);
          return;
        }
        for await (const chunk of await content.read(sha1)) yield chunk as Buffer;
      },
    };
  }

  private async remoteDists(access: Access, repo: RepoConfig, cacheOnly: boolean, p: DistsPath): Promise<DistsAnswer> {
    const release = await this.upstreamRelease(access, repo, cacheOnly, p.dist);
    if (!release) throw notFound(repo.key, pathOf(p));
    if (p.kind === 'release') {
      // The upstream's own files, its signatures as they are (clients check them with the upstream's key).
      if (p.file === 'Release') return bytesAnswer(Buffer.from(release.text, 'utf8'), release.modified, TEXT);
      const data = p.file === 'InRelease' ? release.signed?.inRelease : release.signed?.gpg;
      if (!data) throw notFound(repo.key, pathOf(p));
      return bytesAnswer(data, release.modified, p.file === 'InRelease' ? TEXT : 'application/pgp-signature');
    }
    const base = `${p.comp}/binary-${p.arch}`;
    let rel: string | undefined;
    if (p.kind === 'packages') rel = `${base}/${p.file}`;
    else {
      for (const [name, e] of releaseFiles(release.text)) {
        if (name.startsWith(`${base}/Packages`) && (p.algorithm === 'SHA256' ? e.sha256 : p.algorithm === 'SHA1' ? e.sha1 : e.md5) === p.hash) rel = name;
      }
    }
    if (!rel) throw notFound(repo.key, pathOf(p));
    const item = await this.upstreamIndex(access, repo, cacheOnly, p.dist, rel, release.text);
    if (!item) throw notFound(repo.key, pathOf(p));
    if (!rel.endsWith('.xz') && !rel.endsWith('.bz2')) await this.pool.learnItem(repo.key, item, rel.endsWith('.gz'));
    return this.itemAnswer(item, rel.endsWith('.gz') ? 'application/gzip' : rel.endsWith('.xz') ? 'application/x-xz' : TEXT);
  }

  // ---- virtual ------------------------------------------------------------------------

  private async memberDist(access: Access, member: RepoConfig, cacheOnly: boolean, dist: string): Promise<MemberDist | undefined> {
    if (member.rclass === 'local') {
      const store = this.store(member);
      const state: DistState | undefined = await readState(store, dist);
      if (!state) return undefined;
      return {
        key: `${member.key}:${createHash('sha1').update(state.release).digest('hex')}`,
        release: state.release,
        packages: async (ca) => {
          const [comp, arch] = splitCompArch(ca);
          const g = state.components[comp]?.[arch]?.current;
          if (!g) return undefined;
          const parts: Buffer[] = [];
          for (const id of Object.keys(g.buckets).sort()) parts.push(await readBlob(store, dist, g.buckets[id].text));
          return Buffer.concat(parts);
        },
      };
    }
    const release = await this.upstreamRelease(access, member, cacheOnly, dist);
    if (!release) return undefined;
    const files = releaseFiles(release.text);
    const remotePackages = async (ca: string): Promise<Buffer | undefined> => {
      if (files.has(`${ca}/Packages`)) {
        const item = await this.upstreamIndex(access, member, cacheOnly, dist, `${ca}/Packages`, release.text);
        return item && this.readItem(member, item, MAX_UPSTREAM_INDEX_BYTES);
      }
      if (files.has(`${ca}/Packages.gz`)) {
        const item = await this.upstreamIndex(access, member, cacheOnly, dist, `${ca}/Packages.gz`, release.text);
        if (!item) return undefined;
        return inflateBounded(await this.readItem(member, item, MAX_UPSTREAM_INDEX_BYTES), { format: 'gzip', what: `The Packages.gz of '${member.key}'`, limits: { maxBytes: MAX_UPSTREAM_INDEX_BYTES, maxRatio: 100, allowance: 16 * 1024 * 1024 } });
      }
      return undefined;
    };
    return {
      key: `${member.key}:${createHash('sha1').update(release.text).digest('hex')}`,
      release: release.text,
      packages: async (ca) => {
        const text = await remotePackages(ca);
        if (text) this.pool.learn(member.key, text.toString('utf8').split('\n'));
        return text;
      },
    };
  }

  private async merge(access: Access, repo: RepoConfig, cacheOnly: boolean, dist: string): Promise<MergedDist | undefined> {
    const members: MemberDist[] = [];
    for (const m of await this.deps.packages.virtual.members(repo)) {
      if (m.blackedOut || m.packageType !== 'debian' || !(await access.can('read', m, `dists/${dist}/Release`))) continue;
      try {
        const d = await this.memberDist(access, m, cacheOnly, dist);
        if (d) members.push(d);
      } catch (err) {
        // A failing upstream only drops its member's packages.
        if (!isArcaError(err, 'UPSTREAM_FAILED')) throw err;
      }
    }
    if (members.length === 0) return undefined;
    const cacheKey = `${repo.key}\0${dist}\0${members.map((m) => m.key).join(' ')}`;
    const hit = this.merged.get(cacheKey);
    if (hit) return hit;
    const compArchs = new Set<string>();
    const comps = new Set<string>();
    const archs = new Set<string>();
    for (const m of members) {
      for (const name of releaseFiles(m.release).keys()) {
        const match = /^(.+)\/binary-([^/]+)\/Packages(\.gz|\.xz|\.bz2)?$/.exec(name);
        if (!match) continue;
        compArchs.add(`${match[1]}/binary-${match[2]}`);
        comps.add(match[1]);
        archs.add(match[2]);
      }
    }
    const files = new Map<string, Buffer>();
    const listed: Array<[string, FileSums]> = [];
    for (const ca of [...compArchs].sort()) {
      const texts: Buffer[] = [];
      for (const m of members) {
        const text = await m.packages(ca);
        if (text) texts.push(text);
      }
      const text = mergePackages(texts);
      const gz = await gzip(text);
      files.set(`${ca}/Packages`, text).set(`${ca}/Packages.gz`, gz);
      listed.push([`${ca}/Packages`, sumsOf([text])], [`${ca}/Packages.gz`, sumsOf([gz])]);
    }
    const sortedArchs = [...archs].sort((x, y) => (x === 'all' ? 1 : y === 'all' ? -1 : x < y ? -1 : 1));
    const modified = Math.max(...members.map((m) => Date.parse(releaseField(m.release, 'Date') ?? '') || 0));
    const release = renderRelease({ dist, origin: repo.key, label: repo.key, date: new Date(modified || 0), files: listed, components: [...comps].sort(), architectures: sortedArchs });
    const result: MergedDist = { release, modified: modified || 0, files };
    this.merged.set(cacheKey, result);
    // The last few merges stay readable by hash (a client holding their Release asks for them).
    const recent = this.recentMerges.get(`${repo.key}\0${dist}`) ?? [];
    this.recentMerges.set(`${repo.key}\0${dist}`, [cacheKey, ...recent.filter((k) => k !== cacheKey)].slice(0, 4));
    return result;
  }

  private async virtualDists(access: Access, repo: RepoConfig, cacheOnly: boolean, p: DistsPath): Promise<DistsAnswer> {
    const merged = await this.merge(access, repo, cacheOnly, p.dist);
    if (!merged) throw notFound(repo.key, pathOf(p));
    if (p.kind === 'release') return this.releaseAnswer(repo, merged.release, merged.modified, p.file);
    const base = `${p.comp}/binary-${p.arch}`;
    if (p.kind === 'packages') {
      const data = merged.files.get(`${base}/${p.file}`);
      if (!data) throw notFound(repo.key, pathOf(p));
      return bytesAnswer(data, merged.modified, p.file === 'Packages.gz' ? 'application/gzip' : TEXT);
    }
    const candidates = [merged, ...(this.recentMerges.get(`${repo.key}\0${p.dist}`) ?? []).map((k) => this.merged.get(k))];
    for (const m of candidates) {
      for (const f of ['Packages', 'Packages.gz']) {
        const data = m?.files.get(`${base}/${f}`);
        if (data && hashOf(sumsOf([data]), p.algorithm) === p.hash) return bytesAnswer(data, m!.modified, f === 'Packages.gz' ? 'application/gzip' : TEXT);
      }
    }
    throw notFound(repo.key, pathOf(p));
  }
}

function splitCompArch(ca: string): [string, string] {
  const i = ca.lastIndexOf('/binary-');
  return [ca.slice(0, i), ca.slice(i + '/binary-'.length)];
}
