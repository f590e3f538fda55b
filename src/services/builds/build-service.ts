import { Readable } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import { ArcaError, isArcaError } from '../../core/errors.js';
import { buildEntries, buildNames, buildRuns, buildRunsOf, filesBySha1, type BuildRow } from '../../db/builds.js';
import type { Database } from '../../db/database.js';
import { getItem, getProperties, type ItemRow } from '../../db/items.js';
import type { Access } from '../../security/access.js';
import type { FormatDeployService } from '../format-deploy.js';
import type { RepoConfig, RepositoryService } from '../repositories.js';
import { buildItemPath, diffBuilds, checkBuildInfo, formatStarted, startedMs, type BuildDocument } from './build-info.js';
import { BUILD_INFO_PACKAGE_TYPE, type BuildIndex } from './build-index.js';

/** The build-info repository of the default project (the seed's version 7 name). */
export const BUILD_INFO_REPO = 'artifactory-build-info';

/** A file in a repository that is one of a build's artifacts or dependencies. */
export interface BuildFileItem {
  id: number;
  repo: string;
  path: string;
  sha1: string;
  kind: 'artifact' | 'dependency';
}

export interface DeleteBuildsRequest {
  name: string;
  /** Each number once per run to delete (the CLI repeats a number to delete that many runs). */
  numbers: string[];
  deleteAll: boolean;
  deleteArtifacts: boolean;
}

export interface RetentionRequest {
  /** Keep at most this many runs, the newest. */
  count?: number;
  /** Discard runs started before this time (epoch ms). */
  minimumBuildDate?: number;
  /** Numbers never discarded. */
  keep: string[];
  /** Runs whose last promotion status is one of these are never discarded (an Arca extension). */
  keepStatuses: string[];
  deleteArtifacts: boolean;
}

const fullPath = (row: { path: string; item_name: string }) => (row.path === '' ? row.item_name : `${row.path}/${row.item_name}`);

/**
 * Build Info (REST-API.md §11, issue 15 item 6): each build run is a JSON item of the
 * build-info repository, created on first use with package type `buildinfo`, so builds are
 * replicated, backed up, permission-checked and garbage-collected like any item. Publishing
 * is a deploy there (write permission on the repository, delete to replace a run); reading
 * needs read on the run's item; deleting, delete on it. The index (BuildIndex) answers the
 * listings and the artifact look-ups.
 */
export class BuildService {
  private creating?: Promise<RepoConfig>;

  constructor(
    private readonly database: Database,
    private readonly repos: Pick<RepositoryService, 'get' | 'create'>,
    private readonly deploy: Pick<FormatDeployService, 'deploy' | 'delete'>,
    readonly index: BuildIndex,
    private readonly clock: Clock,
  ) {}

  /** The build-info repository, created when it does not exist yet (once, however many requests ask at once). */
  async repository(): Promise<RepoConfig> {
    const repo = await this.repos.get(BUILD_INFO_REPO);
    if (repo) return repo;
    this.creating ??= this.create().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async create(): Promise<RepoConfig> {
    try {
      return await this.repos.create(BUILD_INFO_REPO, { rclass: 'local', packageType: BUILD_INFO_PACKAGE_TYPE, description: 'Build info (created by Arca on first use)' });
    } catch (err) {
      // Another node created it first (ALREADY_EXISTS, or the key's unique violation when both
      // inserted at once); this node's repository cache may not know it yet.
      const row = await this.database.db.selectFrom('repositories').select('config').where('repo_key', '=', BUILD_INFO_REPO).executeTakeFirst();
      if (!row) throw err;
      return JSON.parse(row.config) as RepoConfig;
    }
  }

  /** Stores a build run (a new item, or the same run again) and indexes it; the caller needs write permission there. */
  async publish(access: Access, text: string): Promise<ItemRow> {
    const repo = await this.repository();
    const { doc, changed } = checkBuildInfo(text, this.clock.now());
    return this.store(access, repo, doc, changed ? JSON.stringify(doc) : text);
  }

  /**
   * Writes a document to its item (publish, and a promotion's new status). A rewrite of the
   * same run (`keepCreated`) keeps the item's creation time: the JFrog CLI takes a name's
   * newest created item as its LATEST run, which a promotion of an older run must not change.
   */
  async store(access: Access, repo: RepoConfig, doc: BuildDocument, body = JSON.stringify(doc), keepCreated = false): Promise<ItemRow> {
    const path = buildItemPath(doc.name, doc.number, startedMs(doc.started));
    const before = keepCreated ? await getItem(this.database.db, repo.key, path) : undefined;
    const result = await this.deploy.deploy({
      repo,
      path,
      folder: false,
      body: Readable.from([Buffer.from(body, 'utf8')]),
      expected: {},
      checksumDeploy: false,
      user: access.user,
      properties: {},
      access,
    });
    if (result.absorbed) throw new ArcaError('INTERNAL', `The build info at '${path}' was not stored`);
    if (before?.type === 'file') {
      await this.database.db.updateTable('items').set({ created: before.created, created_by: before.created_by }).where('id', '=', result.item.id).execute();
      return { ...result.item, created: before.created, created_by: before.created_by };
    }
    return result.item;
  }

  /** The rows the caller may read. */
  private async readable(access: Access, rows: BuildRow[]): Promise<BuildRow[]> {
    const repo = await this.repository();
    if (await access.canReadAll(repo)) return rows;
    const out: BuildRow[] = [];
    for (const r of rows) if (await access.can('read', repo, fullPath(r))) out.push(r);
    return out;
  }

  /** Build names with their newest start, those the caller may read a run of. */
  async names(access: Access): Promise<{ name: string; lastStarted: string }[]> {
    const repo = await this.repository();
    const all = await buildNames(this.database.db, repo.key);
    if (await access.canReadAll(repo)) return all.map((n) => ({ name: n.name, lastStarted: formatStarted(n.last) }));
    const out: { name: string; lastStarted: string }[] = [];
    for (const n of all) {
      const runs = await this.readable(access, await buildRuns(this.database.db, repo.key, n.name));
      if (runs.length > 0) out.push({ name: n.name, lastStarted: formatStarted(runs[0].started_ms) });
    }
    return out;
  }

  /** The runs of a build name the caller may read, newest first; NOT_FOUND when there is none. */
  async runs(access: Access, name: string): Promise<BuildRow[]> {
    const repo = await this.repository();
    const rows = await this.readable(access, await buildRuns(this.database.db, repo.key, name));
    if (rows.length === 0) throw new ArcaError('NOT_FOUND', `No build was found for build name: ${name}`);
    return rows;
  }

  /** One run (the newest of that number, or the one started then), readable by the caller. */
  async run(access: Access, name: string, number: string, started?: string): Promise<BuildRow> {
    const repo = await this.repository();
    let at: number | undefined;
    if (started !== undefined) {
      at = /^\d+$/.test(started) ? Number(started) : startedMs(started);
      if (Number.isNaN(at)) throw new ArcaError('BAD_REQUEST', `'started' must be a time such as 2024-05-01T10:00:00.000+0000, got '${started}'`);
    }
    const rows = await this.readable(access, await buildRunsOf(this.database.db, repo.key, name, number, at));
    if (rows.length === 0) throw new ArcaError('NOT_FOUND', `No build was found for build name: ${name}, build number: ${number}${started ? `, started: ${started}` : ''}`);
    return rows[0];
  }

  /** The stored document of a run. */
  async document(row: BuildRow): Promise<BuildDocument> {
    const doc = await this.index.read(row.repo, fullPath(row));
    if (!doc) throw new ArcaError('NOT_FOUND', `The build info of ${row.name}#${row.number} could not be read`);
    return doc;
  }

  async get(access: Access, name: string, number: string, started?: string): Promise<BuildDocument> {
    return this.document(await this.run(access, name, number, started));
  }

  async diff(access: Access, name: string, number: string, oldNumber: string): Promise<ReturnType<typeof diffBuilds>> {
    const current = await this.get(access, name, number);
    const old = await this.get(access, name, oldNumber);
    return diffBuilds(current, old);
  }

  /**
   * The files that are a run's artifacts (and dependencies when asked), by sha1: in
   * `sourceRepo` only when given, never in a build-info repository; per sha1 the files that
   * carry the run's build.name and build.number properties, or (`anyWhenUnmarked`) any file
   * with it when none does.
   */
  async files(row: BuildRow, kinds: ('artifact' | 'dependency')[], opts: { sourceRepo?: string; anyWhenUnmarked: boolean; scopes?: string[] }): Promise<BuildFileItem[]> {
    let entries = await buildEntries(this.database.db, row.item_id, kinds);
    if (opts.scopes && opts.scopes.length > 0) {
      const wanted = new Set(opts.scopes.map((s) => s.toLowerCase()));
      entries = entries.filter((e) => e.kind === 'artifact' || (e.scopes ?? '').split(',').some((s) => wanted.has(s.toLowerCase())));
    }
    const kindOf = new Map<string, 'artifact' | 'dependency'>();
    for (const e of entries) if (!kindOf.has(e.sha1) || e.kind === 'artifact') kindOf.set(e.sha1, e.kind);
    const candidates = [];
    for (const f of await filesBySha1(this.database.db, [...kindOf.keys()])) {
      if (opts.sourceRepo ? f.repo !== opts.sourceRepo : (await this.repos.get(f.repo))?.packageType === BUILD_INFO_PACKAGE_TYPE) continue;
      candidates.push(f);
    }
    const props = await getProperties(this.database.db, candidates.map((c) => c.id));
    const marked = (id: number) => {
      const p = props.get(id) ?? {};
      return (p['build.name'] ?? []).includes(row.name) && (p['build.number'] ?? []).includes(row.number);
    };
    const out: BuildFileItem[] = [];
    for (const sha1 of kindOf.keys()) {
      const all = candidates.filter((c) => c.sha1 === sha1);
      const chosen = all.filter((c) => marked(c.id));
      for (const c of chosen.length > 0 ? chosen : opts.anyWhenUnmarked ? all.slice(0, 1) : []) {
        out.push({ id: c.id, repo: c.repo, path: c.path === '' ? c.name : `${c.path}/${c.name}`, sha1, kind: kindOf.get(sha1)! });
      }
    }
    return out;
  }

  /** The artifacts of a run the caller may read, as `{repo, path, name}` (the seed's build-artifacts look-up). */
  async artifactFiles(access: Access, name: string, number: string): Promise<{ repo: string; path: string; name: string }[]> {
    const row = await this.run(access, name, number);
    const out: { repo: string; path: string; name: string }[] = [];
    for (const f of await this.files(row, ['artifact'], { anyWhenUnmarked: true })) {
      const repo = await this.repos.get(f.repo);
      if (!repo || !(await access.can('read', repo, f.path))) continue;
      const slash = f.path.lastIndexOf('/');
      out.push({ repo: f.repo, path: slash < 0 ? '.' : f.path.slice(0, slash), name: f.path.slice(slash + 1) });
    }
    return out;
  }

  /** Deletes runs (and their marked artifacts when asked); returns what was deleted as name#number. */
  async deleteBuilds(access: Access, req: DeleteBuildsRequest): Promise<string[]> {
    const repo = await this.repository();
    const all = await buildRuns(this.database.db, repo.key, req.name);
    let chosen: BuildRow[];
    if (req.deleteAll) chosen = all;
    else {
      const left = new Map<string, number>();
      for (const n of req.numbers) left.set(n, (left.get(n) ?? 0) + 1);
      chosen = all.filter((r) => {
        const n = left.get(r.number) ?? 0;
        if (n > 0) left.set(r.number, n - 1);
        return n > 0;
      });
    }
    if (chosen.length === 0) throw new ArcaError('NOT_FOUND', `No build was found for build name: ${req.name}${req.deleteAll ? '' : `, build numbers: ${req.numbers.join(',')}`}`);
    return this.discard(access, repo, chosen, req.deleteArtifacts);
  }

  /** Discards the runs that retention does not keep (newest `count`, started since the date, or listed). */
  async retention(access: Access, name: string, req: RetentionRequest): Promise<string[]> {
    const repo = await this.repository();
    const all = await buildRuns(this.database.db, repo.key, name);
    const keep = new Set(req.keep);
    const keepStatuses = new Set(req.keepStatuses);
    const chosen = all.filter((r, i) => {
      if (keep.has(r.number) || (r.status !== null && keepStatuses.has(r.status))) return false;
      return (req.count !== undefined && i >= req.count) || (req.minimumBuildDate !== undefined && r.started_ms < req.minimumBuildDate);
    });
    return this.discard(access, repo, chosen, req.deleteArtifacts);
  }

  private async discard(access: Access, repo: RepoConfig, runs: BuildRow[], deleteArtifacts: boolean): Promise<string[]> {
    for (const r of runs) await access.require('delete', repo, fullPath(r));
    const done: string[] = [];
    for (const r of runs) {
      if (deleteArtifacts) {
        for (const f of await this.files(r, ['artifact'], { anyWhenUnmarked: false })) {
          const target = await this.repos.get(f.repo);
          if (target) await this.deploy.delete(target, f.path, access).catch((err) => (isArcaError(err, 'ITEM_NOT_FOUND') ? 0 : Promise.reject(err)));
        }
      }
      await this.deploy.delete(repo, fullPath(r), access).catch((err) => (isArcaError(err, 'ITEM_NOT_FOUND') ? 0 : Promise.reject(err)));
      done.push(`${r.name}#${r.number}`);
    }
    return done;
  }
}
