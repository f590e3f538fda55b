import { Readable } from 'node:stream';
import type { ContentStore } from '../../content/content-store.js';
import { ArcaError } from '../../core/errors.js';
import type { MatrixParams } from '../../core/paths.js';
import { readBounded } from '../../core/read-bounded.js';
import type { Database } from '../../db/database.js';
import { getItem, getProperties, type ItemRow, type PropertyMap } from '../../db/items.js';
import type { FormatHandlers } from '../../formats/format-handlers.js';
import type { Access } from '../../security/access.js';
import type { DeployRequest } from '../artifacts.js';
import type { FormatDeployService } from '../format-deploy.js';
import type { RepoConfig } from '../repositories.js';
import { SITE_ID, siteIdOnce } from './site-id.js';

/** The request header that makes a deploy or delete a replication apply (docs/replication.md). */
export const ORIGIN_HEADER = 'x-arca-replication-origin';
/** `X-Arca-Replication-Properties: exact`: the item's properties become exactly the matrix params. */
export const PROPERTIES_HEADER = 'x-arca-replication-properties';
/** Answered on every response to a replication apply: this site's id. */
export const SITE_ID_HEADER = 'X-Arca-Site-Id';

/** A replicated deploy, as the wire protocol carries it: a deploy's fields and the replication's own. */
export interface ReplicatedPut extends Pick<DeployRequest, 'repo' | 'path' | 'folder' | 'body' | 'signal' | 'expected' | 'checksumDeploy' | 'access'> {
  /** The item's properties (matrix params). */
  matrix: MatrixParams;
  /** Replace the item's properties by `matrix` (X-Arca-Replication-Properties: exact) rather than merge. */
  exact: boolean;
  /** The site the change came from. */
  origin: string;
}

export type ReplicatedPutOutcome =
  /** The change came from this site: nothing was done. */
  | { kind: 'loop' }
  /** The item already held that content and those properties: nothing was written. */
  | { kind: 'unchanged'; item: ItemRow }
  | { kind: 'stored'; item: ItemRow; replaced: boolean };

/** The origin header's value, checked: a site id, or a 400. */
export function originOf(value: string | undefined): string {
  const origin = (value ?? '').trim();
  if (!SITE_ID.test(origin)) {
    throw new ArcaError('BAD_REQUEST', `X-Arca-Replication-Origin must be a site id (1-64 letters, digits, '.', '-' or '_'), got '${origin.slice(0, 80)}'`);
  }
  return origin;
}

/** The properties header: `exact`, or absent (merge as matrix params do). */
export function exactPropertiesOf(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value.trim().toLowerCase() === 'exact') return true;
  throw new ArcaError('BAD_REQUEST', `X-Arca-Replication-Properties takes only 'exact', got '${value.slice(0, 80)}'`);
}

function sameValues(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

/** True when `stored` already is what the replicated properties make it. */
function sameProperties(stored: PropertyMap, given: MatrixParams, exact: boolean): boolean {
  const keys = Object.keys(given);
  if (exact && Object.keys(stored).length !== keys.length) return false;
  return keys.every((k) => sameValues(stored[k], given[k]));
}

/**
 * The target side of replication (issue 16): applies a change another site sends through the
 * wire protocol. Authorisation is the normal one (the route checks write or delete before the
 * body; the deploy and delete decide again; exact properties need annotate). A change whose
 * origin is this site is a loop and changes nothing; one identical to what is stored (same
 * checksum, same properties) writes nothing. Otherwise the file is stored as given, even where
 * the format refuses, absorbs or rewrites plain deploys (the source's format validated it), and
 * the format brings what it derives from items up to date (FormatDeployService.deployAsGiven).
 */
export class ReplicationApply {

  constructor(
    private readonly database: Database,
    private readonly content: ContentStore,
    private readonly deploys: FormatDeployService,
    private readonly formats: FormatHandlers,
  ) {}

  /** This site's id, read once per node (it never changes once made). */
  ownSiteId(): Promise<string> {
    return siteIdOnce(this.database);
  }

  async isLoop(origin: string): Promise<boolean> {
    return origin === (await this.ownSiteId());
  }

  async put(req: ReplicatedPut): Promise<ReplicatedPutOutcome> {
    const { repo, path, access } = req;
    if (await this.isLoop(req.origin)) return { kind: 'loop' };
    // Exact properties are an annotation: refused before the body, not silently dropped.
    const annotates = req.exact || Object.keys(req.matrix).length > 0;
    if (annotates && !(await access.can('annotate', repo, path))) {
      throw new ArcaError('FORBIDDEN', `Replicating properties of '${repo.key}/${path}' needs annotate permission (user '${access.user}')`);
    }
    if (!req.folder) {
      if (!req.expected.sha1 && !req.expected.sha256) throw new ArcaError('BAD_REQUEST', 'A replicated file needs X-Checksum-Sha1 (or X-Checksum-Sha256)');
      const same = await this.unchanged(req);
      if (same) {
        for await (const _ of req.body) void _;
        return { kind: 'unchanged', item: same };
      }
    }
    const { body, mimeType } = req.folder ? { body: req.body, mimeType: undefined } : await this.mediaTypeOf(req);
    const result = await this.deploys.deployAsGiven({
      repo,
      path,
      folder: req.folder,
      body,
      signal: req.signal,
      expected: req.expected,
      checksumDeploy: req.checksumDeploy,
      user: access.user,
      properties: {},
      matrix: req.matrix,
      mimeType,
      access,
      origin: req.origin,
    });
    return { kind: 'stored', item: result.item, replaced: result.replaced };
  }

  /** Deletes as the source did; false for a loop (nothing done). A path already absent is ITEM_NOT_FOUND (404, done for the sender). */
  async delete(repo: RepoConfig, path: string, access: Access, origin: string): Promise<boolean> {
    if (await this.isLoop(origin)) return false;
    await this.deploys.delete(repo, path, access, { origin, asGiven: true });
    return true;
  }

  /** The stored item when it already holds the given content and properties. */
  private async unchanged(req: ReplicatedPut): Promise<ItemRow | undefined> {
    const item = await getItem(this.database.db, req.repo.key, req.path);
    if (item?.type !== 'file') return undefined;
    const { sha1, sha256 } = req.expected;
    if ((sha1 !== undefined && item.sha1 !== sha1) || (sha256 !== undefined && item.sha256 !== sha256)) return undefined;
    const stored = (await getProperties(this.database.db, [Number(item.id)])).get(Number(item.id)) ?? {};
    return sameProperties(stored, req.matrix, req.exact) ? item : undefined;
  }

  /**
   * The media type to store the file with when its format keeps it in the content (an OCI
   * manifest): the body is read first (bounded), or the referenced binary for a checksum deploy.
   */
  private async mediaTypeOf(req: ReplicatedPut): Promise<{ body: AsyncIterable<Uint8Array>; mimeType?: string }> {
    const handler = this.formats.handlerFor(req.repo.packageType);
    if (!handler.replicatedMediaType) return { body: req.body };
    const limit = handler.replicatedContentLimit?.(req.path);
    if (limit === undefined) return { body: req.body, mimeType: handler.replicatedMediaType(req.path, undefined, req.matrix) };
    let content: Buffer | undefined;
    let body = req.body;
    if (req.checksumDeploy) {
      const { sha1, sha256 } = req.expected;
      const binary = await this.content.findExisting(sha256 !== undefined ? { sha256 } : { sha1 });
      if (binary && Number(binary.size) <= limit) content = await this.content.readSmall(binary.sha1).catch(() => undefined);
    } else {
      content = await readBounded(req.body, limit, () => new ArcaError('BAD_REQUEST', `'${req.path}' is larger than ${limit} bytes`));
      body = Readable.from([content]);
    }
    return { body, mimeType: content ? handler.replicatedMediaType(req.path, content, req.matrix) : undefined };
  }
}
