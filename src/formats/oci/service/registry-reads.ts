import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { blobLinkPath, manifestFolder } from '../layout.js';
import type { Digest, ManifestReference } from '../reference.js';
import type { ReferrersIndex } from '../referrers.js';
import { paginate, type Page } from './discovery.js';
import { REGISTRY_TYPES, requireImage, type ImageRef } from './image-access.js';
import type { StoredManifest } from './manifests.js';
import type { OciRegistry } from './oci-registry.js';
import type { OciRemote } from './remote-registry.js';
import type { OciVirtual } from './virtual-registry.js';

/** The repositories the catalog is listed from. */
export interface RepoLister {
  list(): Promise<RepoConfig[]>;
}

export interface RegistryReadsDeps {
  reg: OciRegistry;
  remote: OciRemote;
  virtual: OciVirtual;
  repos: RepoLister;
}

/**
 * The pulls and listings of the registry API, for local, remote and virtual repositories
 * alike: each use case first checks the caller's access to what it reads, then asks the
 * store of the repository's kind (the local item tree, the remote's cache and upstream, or
 * the members of a virtual repository the caller may read).
 */
export class RegistryReads {
  constructor(private readonly deps: RegistryReadsDeps) {}

  /**
   * A manifest by tag or digest. The caller needs read on its tag or digest folder, or on the
   * image for a reference that names no manifest (then undefined): a caller learns nothing,
   * not even that the reference is malformed, before being authorised.
   */
  async manifest(access: Access, ref: ImageRef, reference: ManifestReference | undefined): Promise<StoredManifest | undefined> {
    await requireImage(access, ref, 'read', manifestFolder(ref.image, reference));
    if (!reference) return undefined;
    const { repo, image } = ref;
    if (repo.rclass === 'local') return this.deps.reg.manifests.resolve(repo.key, image, reference);
    if (repo.rclass === 'remote') return this.deps.remote.manifest(repo, image, reference, access.user);
    return (await this.deps.virtual.manifest(repo, image, reference, access))?.value;
  }

  /** The bytes of a manifest found by `manifest`. */
  manifestBytes(found: StoredManifest): Promise<Buffer> {
    return this.deps.reg.store.bytes(found.item);
  }

  /**
   * A blob of the image (a manifest by digest too, as the CNCF registry allows, in a local
   * repository). A virtual repository answers a HEAD (`head`) from where pushes go only.
   */
  async blob(access: Access, ref: ImageRef, d: Digest, head: boolean): Promise<ItemRow | undefined> {
    await requireImage(access, ref, 'read', blobLinkPath(ref.image, d));
    const { repo, image } = ref;
    const { reg } = this.deps;
    if (repo.rclass === 'local') return (await reg.blobs.find(repo.key, image, d)) ?? (await reg.manifests.findByDigest(repo.key, image, d));
    if (repo.rclass === 'remote') return this.deps.remote.blob(repo, image, d, access.user);
    return (await this.deps.virtual.blob(repo, image, d, access, head))?.value;
  }

  /** The image's tags, sorted; undefined when the image is unknown. */
  async tags(access: Access, ref: ImageRef): Promise<string[] | undefined> {
    await requireImage(access, ref, 'read', ref.image);
    const { repo, image } = ref;
    if (repo.rclass === 'local') return this.deps.reg.discovery.tags(repo.key, image);
    if (repo.rclass === 'remote') return this.deps.remote.tags(repo, image);
    return this.deps.virtual.tags(repo, image, access);
  }

  /** One page (`n`, `last`) of the image's tags, sorted; undefined when the image is unknown. */
  async tagsPage(access: Access, ref: ImageRef, n: number | undefined, last: string | undefined): Promise<Page | undefined> {
    if (ref.repo.rclass === 'local') {
      await requireImage(access, ref, 'read', ref.image);
      return this.deps.reg.discovery.tagsPage(ref.repo.key, ref.image, n, last);
    }
    const all = await this.tags(access, ref);
    return all && paginate(all, n, last);
  }

  /** The referrers of `subject` in the image, filtered by `artifactType` when given. */
  async referrers(access: Access, ref: ImageRef, subject: Digest, artifactType: string | undefined): Promise<ReferrersIndex> {
    await requireImage(access, ref, 'read', ref.image);
    const { repo, image } = ref;
    if (repo.rclass === 'local') return this.deps.reg.discovery.referrers(repo.key, image, subject, artifactType);
    if (repo.rclass === 'remote') return this.deps.remote.referrers(repo, image, subject, artifactType);
    return this.deps.virtual.referrers(repo, image, subject, access, artifactType);
  }

  /**
   * One page (`n`, `last`) of the images of local registry repositories the caller may read (of
   * `scope` only, when given), as sorted `{repoKey}/{image}` names.
   */
  async catalog(access: Access, scope: string | undefined, n: number | undefined, last: string | undefined): Promise<Page> {
    const repos: RepoConfig[] = [];
    for (const r of await this.deps.repos.list()) {
      if (r.rclass !== 'local' || !REGISTRY_TYPES.includes(r.packageType)) continue;
      if (scope !== undefined && r.key !== scope) continue;
      if (await access.canReadAny(r)) repos.push(r);
    }
    const byKey = new Map(repos.map((r) => [r.key, r]));
    return this.deps.reg.discovery.catalogPage(
      repos.map((r) => r.key),
      (key, path) => access.can('read', byKey.get(key)!, path),
      n,
      last,
    );
  }
}
