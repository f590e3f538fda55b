import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { checksumsOf } from '../../../core/digests.js';
import { overwriteRefused } from '../../../core/errors.js';
import { nameOf, parentOf } from '../../../core/paths.js';
import type { Db, ItemRow, PropertyMap } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import {
  blobFileName,
  digestFolder,
  isTagFolderName,
  manifestFileName,
  MANIFEST_FILES,
  referrerLinkPath,
  RESERVED_TAGS,
  tagFolder,
} from '../layout.js';
import { parseManifest, requiredBlobs, type ParsedManifest } from '../manifest.js';
import { OciError } from '../oci-errors.js';
import type { Digest, ManifestReference } from '../reference.js';
import { BLOB_MIME_TYPE, type OciBlobs } from './blobs.js';
import { binaryOf, type BinaryRef, type OciStore } from './oci-store.js';

/** A stored manifest as the registry serves it. */
export interface StoredManifest {
  item: ItemRow;
  mediaType: string;
  /** The digest to answer with (`Docker-Content-Digest`): the one asked for, else sha256 of the bytes. */
  digest: string;
}

export interface ManifestPut {
  repo: RepoConfig;
  image: string;
  ref: ManifestReference;
  contentType: string | undefined;
  bytes: Buffer;
  /** The pusher: moving an existing tag to another manifest takes delete permission on the tag. */
  access: Access;
}

export interface ManifestPutResult {
  digest: string;
  manifest: ParsedManifest;
}

const sha256Digest = (hex: string): Digest => ({ algorithm: 'sha256', hex, text: `sha256:${hex}` });

/**
 * Manifests by tag and by digest (OCI Distribution Spec, "Pushing manifests", "Pulling
 * manifests", "Deleting"): a push stores the exact bytes in the image's digest folder, and
 * under the tag when pushed by tag, with the config and layers as items beside it; every
 * blob and manifest it references must already be in the image.
 */
export class OciManifests {
  constructor(
    private readonly store: OciStore,
    private readonly blobs: OciBlobs,
  ) {}

  /** The manifest item of a tag or digest folder. */
  private async fileIn(repo: string, folder: string): Promise<ItemRow | undefined> {
    return (await this.store.file(repo, `${folder}/${MANIFEST_FILES[0]}`)) ?? (await this.store.file(repo, `${folder}/${MANIFEST_FILES[1]}`));
  }

  async findByDigest(repo: string, image: string, d: Digest): Promise<ItemRow | undefined> {
    return this.fileIn(repo, digestFolder(image, d));
  }

  async resolve(repo: string, image: string, ref: ManifestReference): Promise<StoredManifest | undefined> {
    if (ref.kind === 'digest') {
      const item = await this.findByDigest(repo, image, ref.digest);
      return item && { item, mediaType: item.mime_type ?? '', digest: ref.digest.text };
    }
    const item = await this.fileIn(repo, tagFolder(image, ref.tag));
    return item && { item, mediaType: item.mime_type ?? '', digest: `sha256:${item.sha256}` };
  }

  async put(p: ManifestPut): Promise<ManifestPutResult> {
    const { image, ref, bytes, access } = p;
    const repo = p.repo.key;
    const user = access.user;
    // Asked before the transaction (the permission lookups stay outside the item locks).
    const mayMoveTag = ref.kind === 'tag' && (await access.can('delete', p.repo, tagFolder(image, ref.tag)));
    if (ref.kind === 'tag' && RESERVED_TAGS.includes(ref.tag)) {
      throw new OciError('MANIFEST_INVALID', `'${ref.tag}' is reserved for the registry's own use and cannot be a tag`, { detail: { tag: ref.tag } });
    }
    const m = parseManifest(bytes, p.contentType);
    const sums = checksumsOf(bytes);
    let digest = sha256Digest(sums.sha256);
    if (ref.kind === 'digest') {
      const actual = ref.digest.algorithm === 'sha256' ? sums.sha256 : createHash(ref.digest.algorithm).update(bytes).digest('hex');
      if (actual !== ref.digest.hex) {
        throw new OciError('DIGEST_INVALID', `The manifest's ${ref.digest.algorithm} is ${actual}, not ${ref.digest.text}`, {
          detail: { expected: ref.digest.text, actual: `${ref.digest.algorithm}:${actual}` },
        });
      }
      digest = ref.digest;
    }
    const layers: { d: Digest; binary: BinaryRef }[] = [];
    for (const desc of requiredBlobs(m)) {
      const found = await this.blobs.find(repo, image, desc.digest);
      if (!found) {
        throw new OciError('MANIFEST_BLOB_UNKNOWN', `Blob ${desc.digest.text} is not in '${repo}/${image}': push it before the manifest`, {
          detail: { digest: desc.digest.text },
        });
      }
      layers.push({ d: desc.digest, binary: binaryOf(found) });
    }
    const childUnknown = (d: Digest) =>
      new OciError('MANIFEST_BLOB_UNKNOWN', `Manifest ${d.text} is not in '${repo}/${image}': push it before the index`, { detail: { digest: d.text } });
    const children: BinaryRef[] = [];
    for (const desc of m.manifests) {
      const child = await this.findByDigest(repo, image, desc.digest);
      if (!child) throw childUnknown(desc.digest);
      children.push(binaryOf(child));
    }
    const staged = await this.store.content.stage(Readable.from([bytes]));
    const file = manifestFileName(m.kind);
    const props: PropertyMap = {
      'docker.repoName': [image],
      'docker.manifest.digest': [digest.text],
      'docker.manifest.type': [m.mediaType],
      sha256: [sums.sha256],
    };
    if (m.artifactType) props['oci.artifactType'] = [m.artifactType];
    if (m.subject) props['oci.subject'] = [m.subject.digest.text];
    await this.store.transaction(
      [...layers.map((l) => l.binary), ...children],
      async (trx) => {
        // Under the lock of their binaries: garbage collection (oci-gc.ts) may have removed an untagged child meanwhile.
        for (const desc of m.manifests) if (!(await this.tagManifest(trx, repo, digestFolder(image, desc.digest)))) throw childUnknown(desc.digest);
        const write = (folder: string, extra: PropertyMap = {}) =>
          this.writeFolder(trx, repo, folder, file, staged, m.mediaType, layers, user, { ...props, ...extra });
        await write(digestFolder(image, digest));
        if (ref.kind === 'tag') {
          const folder = tagFolder(image, ref.tag);
          const current = await this.tagManifest(trx, repo, folder);
          if (current && current.sha256 !== sums.sha256) {
            // Moving a tag replaces its manifest: the overwrite refusal of every deploy route (403 DENIED).
            if (!mayMoveTag) throw overwriteRefused(repo, `${folder}/${current.name}`, user);
          }
          if (current) await this.store.remove(trx, repo, folder);
          await write(folder, { 'docker.manifest': [ref.tag] });
        }
        if (m.subject) {
          await this.store.putFile(trx, { repo, path: referrerLinkPath(image, m.subject.digest, digest), binary: staged, mimeType: m.mediaType, user });
        }
      },
      staged,
    );
    return { digest: digest.text, manifest: m };
  }

  private async tagManifest(trx: Db, repo: string, folder: string): Promise<ItemRow | undefined> {
    for (const name of MANIFEST_FILES) {
      const row = await this.store.getItem(trx, repo, `${folder}/${name}`);
      if (row?.type === 'file') return row;
    }
    return undefined;
  }

  private async writeFolder(
    trx: Db,
    repo: string,
    folder: string,
    file: string,
    manifest: BinaryRef,
    mediaType: string,
    layers: { d: Digest; binary: BinaryRef }[],
    user: string,
    properties: PropertyMap,
  ): Promise<void> {
    await this.store.putFile(trx, { repo, path: `${folder}/${file}`, binary: manifest, mimeType: mediaType, user, properties });
    for (const l of layers) {
      await this.store.putFile(trx, { repo, path: `${folder}/${blobFileName(l.d)}`, binary: l.binary, mimeType: BLOB_MIME_TYPE, user });
    }
  }

  /**
   * Deletes a tag (the tag only: the manifest stays by digest), or a manifest by digest with
   * every tag pointing to it and its entry in the referrers of its subject. False when absent.
   */
  async delete(repo: string, image: string, ref: ManifestReference): Promise<boolean> {
    if (ref.kind === 'tag') {
      const folder = tagFolder(image, ref.tag);
      if (!(await this.fileIn(repo, folder))) return false;
      await this.store.transaction([], (trx) => this.store.remove(trx, repo, folder));
      return true;
    }
    const item = await this.findByDigest(repo, image, ref.digest);
    if (!item) return false;
    let subject: Digest | undefined;
    try {
      subject = parseManifest(await this.store.bytes(item), item.mime_type ?? undefined).subject?.digest;
    } catch {
      subject = undefined;
    }
    await this.store.transaction([], async (trx) => {
      await this.store.remove(trx, repo, digestFolder(image, ref.digest));
      const copies = await this.store.filesWithSha256(trx, repo, item.sha256 ?? '', MANIFEST_FILES);
      for (const c of copies) {
        const folder = c.path;
        if (parentOf(folder) === image && isTagFolderName(nameOf(folder))) await this.store.remove(trx, repo, folder);
      }
      if (subject) await this.store.remove(trx, repo, referrerLinkPath(image, subject, ref.digest));
    });
    return true;
  }

  /** Parses a stored manifest (for referrers and for checks); undefined when it no longer parses. */
  async parsed(item: ItemRow): Promise<ParsedManifest | undefined> {
    try {
      return parseManifest(await this.store.bytes(item), item.mime_type ?? undefined);
    } catch {
      return undefined;
    }
  }
}
