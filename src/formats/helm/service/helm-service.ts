import { Readable } from 'node:stream';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import { LruCache } from '../../../core/lru-cache.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatServiceDeps } from '../../format-services.js';
import { readChartArchive } from '../chart-archive.js';
import { chartFileName, provenanceChart } from '../chart-metadata.js';
import { readFragment } from '../chart-index.js';
import { EMPTY_INDEX_TIME, mergeIndexes, newestGenerated, parseIndex, renderEntries, rewriteUrls, type IndexEntries, type IndexEntry, type ParsedIndex } from '../index-yaml.js';
import { INDEX_PATH, isGenerated } from '../layout.js';

/** Largest upstream index read (a public hub's index is a few tens of MiB). */
const MAX_UPSTREAM_INDEX_BYTES = 128 * 1024 * 1024;

/** An index as a read answers it: the stored file of a local repository, or text made for the request. */
export type IndexAnswer = { kind: 'item'; item: ItemRow } | { kind: 'bytes'; data: Buffer; modified: number };

/** One repository's charts as the caller sees them, and what they were made from. */
interface View extends ParsedIndex {
  /** Identifies the sources (their checksums): equal keys, equal entries. */
  key: string;
}

/** What a chart upload holds: the archive and/or its provenance file. */
export interface ChartUpload {
  chart?: Buffer;
  prov?: Buffer;
  /** Replace files that exist (ChartMuseum's `?force`). */
  force: boolean;
  /** The form sent them (ChartMuseum words its conflict differently then). */
  form: boolean;
}

/** The caller's access without the right to replace files (delete permission is what allows an overwrite). */
function withoutOverwrite(access: Access): Access {
  const view = Object.create(access) as Access;
  view.can = (action, repo, path) => (action === 'delete' ? Promise.resolve(false) : access.can(action, repo, path));
  return view;
}

/**
 * The chart repository use cases of every Helm repository (local, remote, virtual): its
 * index as the caller sees it, the ChartMuseum API's reads, uploads and deletes. Each takes
 * the caller's `Access` and decides there. A local repository's index is the stored file
 * (maintained per chart by the handler); a remote's is the upstream's, cached by the remote
 * fetch rules, with chart URLs below the upstream made relative so clients fetch through
 * Arca; a virtual's merges its members' (first member wins per chart version). Parsed
 * indexes and rendered ones are kept in memory by the checksums they were made from.
 */
export class HelmService {
  /** Parsed indexes, weighed by the size of their text (the objects take a few times more). */
  private readonly parsed = new LruCache<{ index: ParsedIndex; size: number }>(64 * 1024 * 1024, (v) => v.size);
  private readonly rendered = new LruCache<Buffer>(64 * 1024 * 1024, (b) => b.length);

  constructor(private readonly deps: FormatServiceDeps) {}

  /** The `index.yaml` of `repo`; refused unless the caller may read it. */
  async index(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<IndexAnswer> {
    if (repo.rclass === 'local') {
      await access.require('read', repo, INDEX_PATH);
      const item = await this.deps.artifacts.find(repo.key, INDEX_PATH);
      if (item?.type === 'file') return { kind: 'item', item };
      return { kind: 'bytes', data: Buffer.from(renderEntries(new Map(), EMPTY_INDEX_TIME)), modified: Date.parse(EMPTY_INDEX_TIME) };
    }
    const view = await this.view(access, repo, cacheOnly);
    // `generated` comes from the sources, so the same sources give the same text and ETag on every node.
    const generated = newestGenerated([view]);
    let data = this.rendered.get(view.key);
    if (!data) {
      data = Buffer.from(renderEntries(view.entries, generated), 'utf8');
      this.rendered.set(view.key, data);
    }
    return { kind: 'bytes', data, modified: Date.parse(generated) };
  }

  /** Every chart of `repo` (ChartMuseum's `GET /api/charts`). */
  async charts(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<IndexEntries> {
    return (await this.view(access, repo, cacheOnly)).entries;
  }

  /** The versions of chart `name`, newest first; undefined when there is no such chart. */
  async chart(access: Access, repo: RepoConfig, cacheOnly: boolean, name: string): Promise<IndexEntry[] | undefined> {
    if (repo.rclass === 'local') {
      await access.require('read', repo, INDEX_PATH);
      const fragment = await readFragment(this.deps.packages.deploy.storeFor(repo, access.user), name);
      return fragment && fragment.entries.length > 0 ? fragment.entries : undefined;
    }
    return (await this.view(access, repo, cacheOnly)).entries.get(name);
  }

  /** The local repository an upload to `addressed` goes to; remote repositories are read-only. */
  async uploadTarget(addressed: RepoConfig, cacheOnly: boolean): Promise<RepoConfig> {
    if (addressed.rclass === 'remote' || cacheOnly) {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${addressed.key}' is read-only: upload charts to a local repository instead`);
    }
    return addressed.rclass === 'virtual' ? this.deps.packages.virtual.deploymentRepo(addressed) : addressed;
  }

  /**
   * Stores an uploaded chart and/or provenance file at the repository's root
   * (`{name}-{version}.tgz[.prov]`), after every check: the archive is a valid chart, the
   * provenance file is for it, and (unless forced) neither file exists yet. The chart is
   * stored first; its index update runs in the deploy (the handler's afterDeploy).
   */
  async upload(access: Access, addressed: RepoConfig, cacheOnly: boolean, upload: ChartUpload): Promise<void> {
    const repo = await this.uploadTarget(addressed, cacheOnly);
    const { chart, prov } = upload;
    if (!chart && !prov) throw new ArcaError('BAD_REQUEST', 'no package or provenance file found in form fields chart and prov');
    let file: string;
    if (chart) {
      const { metadata } = await readChartArchive(chart);
      file = chartFileName(metadata.name, metadata.version);
      if (prov) {
        const signed = provenanceChart(prov);
        if (signed.name !== metadata.name || signed.version !== metadata.version) {
          throw new ArcaError('BAD_REQUEST', `The provenance file is for ${signed.name} ${signed.version}, not for the chart ${metadata.name} ${metadata.version}`);
        }
      }
    } else {
      const signed = provenanceChart(prov!);
      file = chartFileName(signed.name, signed.version);
    }
    const files = [...(chart ? [{ path: file, data: chart }] : []), ...(prov ? [{ path: `${file}.prov`, data: prov }] : [])];
    for (const f of files) await access.require('write', repo, f.path);
    const exists = () => new ArcaError('CONFLICT', upload.form ? 'chart already exists' : 'file already exists');
    if (!upload.force) {
      for (const f of files) if (await this.deps.artifacts.find(repo.key, f.path)) throw exists();
    }
    // Without force the deploy itself may not replace a file (it decides that inside its commit),
    // so of two uploads of one new version that both passed the check above, one gets the 409.
    const deployer = upload.force ? access : withoutOverwrite(access);
    for (const f of files) {
      try {
        await this.deps.packages.deploy.deploy({
          repo,
          path: f.path,
          folder: false,
          body: Readable.from([f.data]),
          expected: {},
          checksumDeploy: false,
          user: access.user,
          properties: {},
          access: deployer,
        });
      } catch (err) {
        // Write permission was checked above: a refusal now is the overwrite refusal.
        if (!upload.force && isArcaError(err, 'FORBIDDEN')) throw exists();
        throw err;
      }
    }
  }

  /** Deletes one chart version (ChartMuseum's `DELETE /api/charts/{name}/{version}`) with its provenance file. */
  async deleteVersion(access: Access, repo: RepoConfig, name: string, version: string): Promise<void> {
    if (repo.rclass !== 'local') {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Charts are deleted in local repositories; '${repo.key}' is a ${repo.rclass} repository`);
    }
    const fragment = await readFragment(this.deps.packages.deploy.storeFor(repo, access.user), name);
    const entry = fragment?.entries.find((e) => e.version === version);
    if (!entry || entry.urls.length === 0) throw new ArcaError('NOT_FOUND', `no chart version found for ${name}-${version}`);
    const path = entry.urls[0].split('/').map(decodeURIComponent).join('/');
    // The handler takes the chart out of the index and deletes its provenance file.
    await this.deps.packages.deploy.delete(repo, path, access);
  }

  /** The caller may read chart files below `path` of the repository through the chart API (not the generated ones). */
  checkChartPath(path: string): void {
    if (path === '' || isGenerated(path)) throw new ArcaError('NOT_FOUND', `No chart file at '${path}'`);
  }

  private async view(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<View> {
    if (repo.rclass !== 'virtual') {
      await access.require('read', repo, INDEX_PATH);
      return (await this.memberView(access, repo, cacheOnly)) ?? { entries: new Map(), key: 'empty' };
    }
    const views: View[] = [];
    for (const member of await this.deps.packages.virtual.members(repo)) {
      if (member.blackedOut || member.packageType !== 'helm' || !(await access.can('read', member, INDEX_PATH))) continue;
      try {
        const v = await this.memberView(access, member, cacheOnly);
        if (v) views.push(v);
      } catch (err) {
        // A failing upstream only drops its member's charts.
        if (!isArcaError(err, 'UPSTREAM_FAILED')) throw err;
      }
    }
    return { entries: mergeIndexes(views.map((v) => v.entries)), generated: newestGenerated(views), key: `virtual ${views.map((v) => v.key).join(' ')}` };
  }

  /** A local or remote repository's entries; undefined when it has no index. */
  private async memberView(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<View | undefined> {
    const { artifacts, packages } = this.deps;
    let item: ItemRow | undefined;
    let base: string | undefined;
    if (repo.rclass === 'remote') {
      base = packages.remote.settings(repo).url;
      try {
        item = await packages.remote.fetch(repo, INDEX_PATH, { kind: 'metadata', user: access.user, cacheOnly });
      } catch (err) {
        if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
        throw err;
      }
    } else {
      item = await artifacts.find(repo.key, INDEX_PATH);
    }
    if (item?.type !== 'file' || !item.sha1) return undefined;
    const key = `${item.sha1} ${base ?? ''}`;
    let parsed = this.parsed.get(key)?.index;
    if (!parsed) {
      parsed = await this.parseStored(repo, item);
      if (base !== undefined) parsed = { ...parsed, entries: rewriteUrls(parsed.entries, base) };
      this.parsed.set(key, { index: parsed, size: Number(item.size) });
    }
    // An index without a `generated` of its own is as new as the copy it was read from.
    return { ...parsed, generated: parsed.generated ?? new Date(item.modified).toISOString(), key };
  }

  private async parseStored(repo: RepoConfig, item: ItemRow): Promise<ParsedIndex> {
    const { content } = this.deps;
    const size = Number(item.size);
    const upstream = () => new ArcaError('UPSTREAM_FAILED', `The index.yaml of '${repo.key}' is larger than ${MAX_UPSTREAM_INDEX_BYTES} bytes`);
    if (size > MAX_UPSTREAM_INDEX_BYTES) throw upstream();
    const data = size <= content.smallFileLimit ? await content.readSmall(item.sha1!) : await readBounded(await content.read(item.sha1!), MAX_UPSTREAM_INDEX_BYTES, upstream);
    try {
      return parseIndex(data.toString('utf8'));
    } catch (err) {
      throw new ArcaError('UPSTREAM_FAILED', `The index.yaml of '${repo.key}' cannot be read: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
