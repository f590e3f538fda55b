/**
 * The changes of the npm registry protocol: publish, deprecate (a packument PUT without
 * attachments), unpublish of versions, of a tarball or of a whole package, and dist-tag
 * changes. Each goes to the repository's write target (a virtual repository's
 * defaultDeploymentRepo) and checks there that the caller may make it.
 */
import type { StagedBinary } from '../../../binstore/binary-provider.js';
import type { ContentStore } from '../../../content/content-store.js';
import type { Clock } from '../../../core/clock.js';
import { ArcaError } from '../../../core/errors.js';
import type { Access } from '../../../security/access.js';
import type { ArtifactService } from '../../../services/artifacts.js';
import type { NpmStore } from './npm-store.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { applyPackumentUpdate, checkDeleteRevision, mergeDistTags, removeDistTag, removeVersions, setDistTag } from '../document.js';
import { parsePackageName, tarballPath, versionOfTarball } from '../names.js';
import type { PackageDocument } from '../packument.js';
import { parsePublish } from '../publish.js';
import { receivePublishBody, type ReceivedPublish } from '../publish-body.js';

/** A packument PUT as it arrived, its tarball (if any) staged. */
export type ReceivedPackument = ReceivedPublish<StagedBinary>;

/** A dist-tag change: PUT (one tag, body `"1.2.3"`), POST (several, body `{tag: version}`) or DELETE. */
export interface DistTagChange {
  method: 'PUT' | 'POST' | 'DELETE';
  tag: string | undefined;
  /** Reads the change's body (not called for a DELETE); read only once the caller may change the tags. */
  body: () => Promise<unknown>;
}

const notFound = (name: string) => new ArcaError('NOT_FOUND', `Package ${name} not found`);

/** The package store and the write target of a repository (the npm service gives itself). */
export interface WriteTargets {
  readonly store: NpmStore;
  /** The local repository writes to `repo` go to (a virtual's defaultDeploymentRepo). */
  writeTarget(repo: RepoConfig): Promise<RepoConfig>;
}

export class NpmWrites {
  private readonly content: ContentStore;
  private readonly clock: Clock;
  private readonly artifacts: ArtifactService;

  constructor(
    private readonly packages: WriteTargets,
    deps: { content: ContentStore; clock: Clock; artifacts: ArtifactService },
  ) {
    this.content = deps.content;
    this.clock = deps.clock;
    this.artifacts = deps.artifacts;
  }

  private isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Reads a packument PUT body, streaming its tarball (if any) into staging until `signal` aborts. */
  receive(body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<ReceivedPackument> {
    return receivePublishBody(body, (source) => this.content.stage(source, { signal }));
  }

  /** The local repository a write goes to, with the caller's permission for `action` on `path` checked there. */
  private async writable(access: Access, repo: RepoConfig, action: 'write' | 'delete', path: string): Promise<RepoConfig> {
    const target = await this.packages.writeTarget(repo);
    if (target.blackedOut) throw new ArcaError('FORBIDDEN', `Repository '${target.key}' is blacked out`);
    await access.require(action, target, path);
    return target;
  }

  /**
   * `PUT /{name}` with an attachment: a new version. The caller was checked for the right to
   * write somewhere in the repository before the body was read; the precise check, at the
   * tarball's path (known from the body), is made here. `email` is the publisher's, when known.
   */
  async publish(access: Access, repo: RepoConfig, name: string, received: ReceivedPackument, email: string | undefined): Promise<PackageDocument> {
    const { doc: body, tarball } = received;
    const pub = parsePublish(body, name, tarball);
    const path = tarballPath(pub.name, pub.version);
    const target = await this.writable(access, repo, 'write', path);
    this.artifacts.checkDeployable(target, path);
    return this.packages.store.publish(target, pub, tarball!.staged, access.user, email);
  }

  /** `PUT /{name}` without attachments: a change of the packument (`npm deprecate`). */
  async deprecate(access: Access, repo: RepoConfig, name: string, body: unknown): Promise<PackageDocument> {
    const target = await this.writable(access, repo, 'write', name);
    return this.packages.store.update(target, name, access.user, (current) => {
      if (!current) throw notFound(name);
      return applyPackumentUpdate(current, body, this.isoNow());
    });
  }

  /** `PUT /{name}/-rev/{rev}`: the packument with versions left out (`npm unpublish pkg@ver`). */
  async putRevision(access: Access, repo: RepoConfig, name: string, rev: string, body: unknown): Promise<PackageDocument> {
    const target = await this.writable(access, repo, 'write', name);
    const current = await this.packages.store.document(target.key, name);
    if (!current) throw notFound(name);
    // Removing versions needs delete permission: find out first whether this change removes any.
    if (applyPackumentUpdate(current.doc, body, this.isoNow(), rev).removed.length > 0) {
      await access.require('delete', target, name);
    }
    return this.packages.store.update(target, name, access.user, (d) => {
      if (!d) throw notFound(name);
      return applyPackumentUpdate(d, body, this.isoNow(), rev);
    });
  }

  /** `DELETE /{name}/-rev/{rev}`: the whole package. */
  async deletePackage(access: Access, repo: RepoConfig, name: string, rev: string): Promise<void> {
    const target = await this.writable(access, repo, 'delete', name);
    await this.packages.store.deletePackage(target, name, (doc) => checkDeleteRevision(doc, rev));
  }

  /** `DELETE /{name}/-/{file}/-rev/{rev}`: a tarball; its version goes from the document too. */
  async deleteTarball(access: Access, repo: RepoConfig, name: string, file: string, rev: string | undefined): Promise<void> {
    const version = versionOfTarball(parsePackageName(name), file);
    if (version === undefined) throw new ArcaError('NOT_FOUND', `'${file}' is not a tarball of ${name}`);
    const path = tarballPath(name, version);
    const target = await this.writable(access, repo, 'delete', path);
    const store = this.packages.store;
    const current = await store.document(target.key, name);
    if (current?.doc.versions[version]) {
      if (rev !== undefined) checkDeleteRevision(current.doc, rev);
      if (Object.keys(current.doc.versions).length === 1) await store.deletePackage(target, name);
      else await store.update(target, name, access.user, (d) => {
        if (!d?.versions[version]) throw new ArcaError('NOT_FOUND', `${name}@${version} not found`);
        return { doc: removeVersions(d, [version], this.isoNow()), removed: [version] };
      });
      return;
    }
    if (!(await store.tarball(target.key, name, version))) throw new ArcaError('NOT_FOUND', `Tarball ${file} of ${name} not found`);
    await this.artifacts.delete(target.key, path);
  }

  /** A change of `name`'s dist-tags; the new document. */
  async changeDistTags(access: Access, repo: RepoConfig, name: string, change: DistTagChange): Promise<PackageDocument> {
    const target = await this.writable(access, repo, 'write', name);
    const { method, tag } = change;
    const body = method === 'DELETE' ? undefined : await change.body();
    const now = this.isoNow();
    return this.packages.store.update(target, name, access.user, (d) => {
      if (!d) throw notFound(name);
      if (method === 'POST') return { doc: mergeDistTags(d, body, now), removed: [] };
      if (tag === undefined) throw new ArcaError('BAD_REQUEST', 'The dist-tag is missing from the URL');
      return { doc: method === 'PUT' ? setDistTag(d, tag, body, now) : removeDistTag(d, tag, now), removed: [] };
    });
  }
}
