import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { blobLinkPath, manifestFolder, uploadFolder } from '../layout.js';
import { lookupReference, parseDigest, parseReference, type Digest, type ManifestReference } from '../reference.js';
import { REGISTRY_TYPES, requireImage, type ImageRef } from './image-access.js';
import type { ManifestPutResult } from './manifests.js';
import type { OciRegistry } from './oci-registry.js';
import type { UploadRef } from './uploads.js';

/** The repositories a mount may take a blob from. */
export interface RepoGetter {
  get(key: string): Promise<RepoConfig | undefined>;
}

/** The body of an upload request, with the signal that fires when its client goes away. */
export interface UploadBody {
  stream: AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

/** What a `POST blobs/uploads/` asks for; its query values as the client sent them. */
export interface UploadStart {
  /** `?mount=` with `?from=`: `from` as repository and image, undefined when it names no image of this registry. */
  mount?: { digest: string; from: { repo: string; image: string } | undefined };
  /** `?digest=`: a monolithic upload of the body. */
  digest?: string;
  /** Opens the request's body, for a monolithic upload. */
  body(): UploadBody;
}

/** Where a chunk goes in its session (`Content-Range`), and the request's abort signal. */
export interface ChunkRequest {
  range?: { start: number; end: number };
  signal?: AbortSignal;
}

/**
 * The pushes and deletes of the registry API in a local repository (a virtual repository's
 * writes arrive here addressed to its deployment repository). Each use case first checks the
 * caller's access to what it writes: uploads to the session's folder (or the image's
 * `_uploads` for a new one), manifests to their tag or digest folder, deletes likewise.
 */
export class RegistryWrites {
  constructor(
    private readonly reg: OciRegistry,
    private readonly repos: RepoGetter,
  ) {}

  /** Removes a blob from the image; false when it was not there. */
  async deleteBlob(access: Access, ref: ImageRef, d: Digest): Promise<boolean> {
    await requireImage(access, ref, 'delete', blobLinkPath(ref.image, d));
    return this.reg.blobs.delete(ref.repo.key, ref.image, d);
  }

  /**
   * `POST blobs/uploads/`: a mount of a blob of another image the caller may read (when the
   * source has it), else a monolithic upload (`digest`), else a new session.
   */
  async startUpload(access: Access, ref: ImageRef, start: UploadStart): Promise<{ created: Digest } | { session: string }> {
    const { repo, image } = ref;
    const user = access.user;
    await requireImage(access, ref, 'write', `${image}/_uploads`);
    if (start.mount) {
      const d = parseDigest(start.mount.digest);
      const source = start.mount.from && (await this.mountSource(access, start.mount.from));
      if (source && (await this.reg.blobs.mount(source, { repo: repo.key, image }, d, user))) return { created: d };
    }
    if (start.digest !== undefined) {
      const d = parseDigest(start.digest);
      const body = start.body();
      await this.reg.uploads.monolithic(repo.key, image, d, body.stream, { user, signal: body.signal });
      return { created: d };
    }
    const u = await this.reg.uploads.start(repo.key, image, user);
    return { session: u.uuid };
  }

  /** A local registry repository's image the caller may read, as a mount's source. */
  private async mountSource(access: Access, from: { repo: string; image: string }): Promise<{ repo: string; image: string } | undefined> {
    const repo = await this.repos.get(from.repo);
    if (!repo || repo.rclass !== 'local' || !REGISTRY_TYPES.includes(repo.packageType)) return undefined;
    if (!(await access.can('read', repo, from.image))) return undefined;
    return { repo: repo.key, image: from.image };
  }

  /** An upload session the caller may write to (its status too takes write permission). */
  private async session(access: Access, ref: ImageRef, uuid: string): Promise<UploadRef> {
    await requireImage(access, ref, 'write', uploadFolder(ref.image, uuid));
    return { repo: ref.repo.key, image: ref.image, uuid };
  }

  /** The bytes a session has received (the offset of its next chunk). */
  async uploadStatus(access: Access, ref: ImageRef, uuid: string): Promise<number> {
    return (await this.reg.uploads.status(await this.session(access, ref, uuid))).offset;
  }

  async cancelUpload(access: Access, ref: ImageRef, uuid: string): Promise<void> {
    await this.reg.uploads.cancel(await this.session(access, ref, uuid));
  }

  /** `PATCH`: appends a chunk; returns the session's new offset. */
  async appendUpload(access: Access, ref: ImageRef, uuid: string, body: AsyncIterable<Uint8Array>, chunk: ChunkRequest): Promise<number> {
    const u = await this.session(access, ref, uuid);
    return this.reg.uploads.append(u, body, { ...chunk, user: access.user });
  }

  /** `PUT ?digest=`: closes the session (with a last chunk when the request has a body) as blob `d`. */
  async finishUpload(access: Access, ref: ImageRef, uuid: string, d: Digest, body: AsyncIterable<Uint8Array> | undefined, chunk: ChunkRequest): Promise<void> {
    const u = await this.session(access, ref, uuid);
    await this.reg.uploads.finish(u, d, body, { ...chunk, user: access.user });
  }

  /**
   * Pushes a manifest under `reference`: write permission on its folder is checked first (on
   * the image for a malformed reference, which then stays a 400), then the body is read.
   */
  async putManifest(access: Access, ref: ImageRef, reference: string, contentType: string | undefined, body: () => Promise<Buffer>): Promise<ManifestPutResult> {
    await requireImage(access, ref, 'write', manifestFolder(ref.image, lookupReference(reference)));
    const parsed = parseReference(reference);
    const bytes = await body();
    return this.reg.manifests.put({ repo: ref.repo, image: ref.image, ref: parsed, contentType, bytes, access });
  }

  /** Deletes a tag, or a manifest by digest; false when there is none (or the reference names none). */
  async deleteManifest(access: Access, ref: ImageRef, reference: ManifestReference | undefined): Promise<boolean> {
    await requireImage(access, ref, 'delete', manifestFolder(ref.image, reference));
    if (!reference) return false;
    return this.reg.manifests.delete(ref.repo.key, ref.image, reference);
  }
}
