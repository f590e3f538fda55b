import { ArcaError } from '../../core/errors.js';
import { SYSTEM_ACCESS, type Access } from '../../security/access.js';
import type { CopyMoveService, Message } from '../copy-move.js';
import type { RepositoryService } from '../repositories.js';
import type { StorageApiService } from '../storage-api.js';
import { formatStarted, type BuildStatus } from './build-info.js';
import type { BuildService } from './build-service.js';

/** `POST /api/build/promote/{name}/{number}`, as the JFrog CLI's `build-promote` sends it. */
export interface PromotionRequest {
  status?: string;
  comment?: string;
  ciUser?: string;
  /** When the promotion happened (the seed's time format); now when absent. */
  timestamp?: string;
  dryRun: boolean;
  sourceRepo?: string;
  targetRepo?: string;
  /** Copy (true) or move (false, the default) the files to targetRepo. */
  copy: boolean;
  /** Promote the artifacts (default true) and the dependencies (default false). */
  artifacts: boolean;
  dependencies: boolean;
  /** Only dependencies of these scopes. */
  scopes?: string[];
  /** Properties set on every promoted file (its new copy when there is a target). */
  properties: Record<string, string[]>;
  /** Stop at the first failure (the seed's default). */
  failFast: boolean;
}

export interface PromotionResult {
  ok: boolean;
  messages: Message[];
}

/**
 * Promotion: the run's files (found by sha1, see BuildService.files) copied or moved to the
 * target repository at the same paths through the copy/move service (so the permission checks
 * are a copy's or a move's, and format metadata is regenerated on both sides), the properties
 * set on them, and a status record added to the run. A dry run changes nothing and says what
 * would fail. Adding a status needs write permission on the run's item.
 */
export class BuildPromotion {
  constructor(
    private readonly builds: BuildService,
    private readonly repos: Pick<RepositoryService, 'get'>,
    private readonly copyMove: Pick<CopyMoveService, 'run'>,
    private readonly storage: Pick<StorageApiService, 'setProperties'>,
    private readonly now: () => number,
  ) {}

  async promote(access: Access, name: string, number: string, req: PromotionRequest): Promise<PromotionResult> {
    const row = await this.builds.run(access, name, number);
    const buildRepo = await this.builds.repository();
    const itemPath = row.path === '' ? row.item_name : `${row.path}/${row.item_name}`;
    if (req.status !== undefined) await access.require('write', buildRepo, itemPath);
    const target = req.targetRepo ? await this.repos.get(req.targetRepo) : undefined;
    if (req.targetRepo && !target) throw new ArcaError('REPO_NOT_FOUND', `Repository '${req.targetRepo}' not found`);
    if (target && target.rclass !== 'local') throw new ArcaError('BAD_REQUEST', `Cannot promote to ${target.rclass} repository '${target.key}': the target must be a local repository`);
    if (req.sourceRepo && !(await this.repos.get(req.sourceRepo))) throw new ArcaError('REPO_NOT_FOUND', `Repository '${req.sourceRepo}' not found`);

    const kinds = [...(req.artifacts ? (['artifact'] as const) : []), ...(req.dependencies ? (['dependency'] as const) : [])];
    const files = await this.builds.files(row, kinds, { sourceRepo: req.sourceRepo, anyWhenUnmarked: true, scopes: req.scopes });
    const messages: Message[] = [];
    let failed = 0;
    const mode = req.copy ? 'copy' : 'move';
    let promoted = 0;
    for (const f of files) {
      if (failed > 0 && req.failFast) break;
      let at = { repo: f.repo, path: f.path };
      if (target && f.repo !== target.key) {
        const result = await this.copyMove.run(mode, access, f.repo, f.path, { repoKey: target.key, path: f.path, into: false }, { dryRun: req.dryRun, failFast: req.failFast });
        for (const m of result.messages) if (m.level !== 'INFO') messages.push(m);
        if (!result.ok) {
          failed++;
          continue;
        }
        at = { repo: target.key, path: f.path };
      }
      if (!req.dryRun && Object.keys(req.properties).length > 0) {
        const repo = await this.repos.get(at.repo);
        if (repo) {
          try {
            await this.storage.setProperties(access, repo, at.path, req.properties, false);
          } catch (err) {
            failed++;
            messages.push({ level: 'ERROR', message: `setting properties on ${at.repo}:${at.path} failed: ${(err as Error).message}` });
            continue;
          }
        }
      }
      promoted++;
    }

    if (req.status !== undefined && !req.dryRun && (failed === 0 || !req.failFast)) {
      const doc = await this.builds.document(row);
      const status: BuildStatus = {
        status: req.status,
        ...(req.comment !== undefined ? { comment: req.comment } : {}),
        ...(target ? { repository: target.key } : {}),
        timestamp: req.timestamp ?? formatStarted(this.now()),
        user: access.user,
        ...(req.ciUser !== undefined ? { ciUser: req.ciUser } : {}),
      };
      doc.statuses = [...(Array.isArray(doc.statuses) ? doc.statuses : []), status];
      // The caller's write permission on the run was checked above; the item is rewritten on the system's account.
      await this.builds.store(SYSTEM_ACCESS, buildRepo, doc, undefined, true);
    }
    const what = target ? `${req.dryRun ? 'Dry run for ' : ''}${mode === 'copy' ? 'copying' : 'moving'} ${promoted} of ${files.length} files of ${name}#${number} to '${target.key}'` : `${req.dryRun ? 'Dry run for ' : ''}promoting ${name}#${number}`;
    messages.push({ level: failed === 0 ? 'INFO' : 'WARNING', message: `${what} ${failed === 0 ? 'completed successfully' : `completed with ${failed} error${failed === 1 ? '' : 's'}`}` });
    return { ok: failed === 0, messages };
  }
}
