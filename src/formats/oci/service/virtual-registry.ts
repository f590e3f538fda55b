/**
 * Virtual docker/oci repositories: one registry name over several repositories. Reads
 * resolve in the order of the shared VirtualResolver (local members, then remote members,
 * each group in the configured order, nested virtual repositories expanded), skipping
 * members the caller may not read and remotes whose upstream fails; tags and referrers are
 * merged over every member. Pushes (uploads, manifests, deletes) go to the virtual
 * repository's `defaultDeploymentRepo` (the routes hand them to the local repository's
 * handlers). A blob HEAD, which push clients send to learn whether an upload can be
 * skipped, is answered from the deployment repository alone (every local member when none
 * is set): a blob that only another member has would let a client skip an upload its
 * manifest then needs.
 */
import { isArcaError } from '../../../core/errors.js';
import type { ItemRow } from '../../../db/items.js';
import { manifestFolder } from '../layout.js';
import type { Digest, ManifestReference } from '../reference.js';
import type { ReferrerDescriptor, ReferrersIndex } from '../referrers.js';
import { OCI_INDEX } from '../media-types.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { Access } from '../../../security/access.js';
import type { VirtualResolver } from '../../../services/serve/virtual-resolver.js';
import type { StoredManifest } from './manifests.js';
import type { OciRegistry } from './oci-registry.js';
import { REGISTRY_TYPES } from './image-access.js';
import type { OciRemote } from './remote-registry.js';

const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A member's answer. */
export interface MemberHit<T> {
  repo: RepoConfig;
  value: T;
}

export class OciVirtual {
  constructor(
    private readonly reg: OciRegistry,
    private readonly remote: OciRemote,
    private readonly resolver: VirtualResolver,
  ) {}

  /** The members the caller may read at `path`, in resolution order. */
  async members(virtual: RepoConfig, path: string, access: Access): Promise<RepoConfig[]> {
    const out: RepoConfig[] = [];
    for (const m of await this.resolver.members(virtual)) {
      if (m.blackedOut || !REGISTRY_TYPES.includes(m.packageType)) continue;
      if (await access.can('read', m, path)) out.push(m);
    }
    return out;
  }

  /** Asks each member in order; a remote whose upstream fails is skipped. */
  private async first<T>(members: RepoConfig[], ask: (m: RepoConfig) => Promise<T | undefined>): Promise<MemberHit<T> | undefined> {
    for (const repo of members) {
      try {
        const value = await ask(repo);
        if (value !== undefined) return { repo, value };
      } catch (err) {
        if (repo.rclass === 'remote' && isArcaError(err, 'UPSTREAM_FAILED')) continue;
        throw err;
      }
    }
    return undefined;
  }

  async manifest(virtual: RepoConfig, image: string, ref: ManifestReference, access: Access): Promise<MemberHit<StoredManifest> | undefined> {
    return this.first(await this.members(virtual, manifestFolder(image, ref), access), (m) =>
      m.rclass === 'remote' ? this.remote.manifest(m, image, ref, access.user) : this.reg.manifests.resolve(m.key, image, ref),
    );
  }

  /** A blob for a GET (every member), or for a HEAD (`forPush`: see the file comment). */
  async blob(virtual: RepoConfig, image: string, d: Digest, access: Access, forPush = false): Promise<MemberHit<ItemRow> | undefined> {
    let members = await this.members(virtual, image, access);
    if (forPush) {
      const target = typeof virtual.defaultDeploymentRepo === 'string' ? virtual.defaultDeploymentRepo : '';
      members = members.filter((m) => (target ? m.key === target : m.rclass === 'local'));
    }
    return this.first(members, (m) => (m.rclass === 'remote' ? this.remote.blob(m, image, d, access.user) : this.reg.blobs.find(m.key, image, d)));
  }

  /** Tags of every member, merged; undefined when no member knows the image. */
  async tags(virtual: RepoConfig, image: string, access: Access): Promise<string[] | undefined> {
    let all: Set<string> | undefined;
    for (const m of await this.members(virtual, image, access)) {
      let tags: string[] | undefined;
      try {
        tags = m.rclass === 'remote' ? await this.remote.tags(m, image) : await this.reg.discovery.tags(m.key, image);
      } catch (err) {
        if (m.rclass === 'remote' && isArcaError(err, 'UPSTREAM_FAILED')) continue;
        throw err;
      }
      if (tags === undefined) continue;
      all ??= new Set();
      for (const t of tags) all.add(t);
    }
    return all && [...all].sort(ascii);
  }

  /** Referrers of `subject` in every member, each digest once (the first member's descriptor). */
  async referrers(virtual: RepoConfig, image: string, subject: Digest, access: Access, artifactType?: string): Promise<ReferrersIndex> {
    const byDigest = new Map<string, ReferrerDescriptor>();
    for (const m of await this.members(virtual, image, access)) {
      let index: ReferrersIndex;
      try {
        index = m.rclass === 'remote' ? await this.remote.referrers(m, image, subject, artifactType) : await this.reg.discovery.referrers(m.key, image, subject, artifactType);
      } catch (err) {
        if (m.rclass === 'remote' && isArcaError(err, 'UPSTREAM_FAILED')) continue;
        throw err;
      }
      for (const d of index.manifests) if (!byDigest.has(d.digest)) byDigest.set(d.digest, d);
    }
    const manifests = [...byDigest.values()].sort((a, b) => ascii(a.digest, b.digest));
    return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
  }

  /** Where pushes to the virtual repository go (METHOD_NOT_ALLOWED when it has none). */
  deploymentRepo(virtual: RepoConfig): Promise<RepoConfig> {
    return this.resolver.deploymentRepo(virtual);
  }
}
