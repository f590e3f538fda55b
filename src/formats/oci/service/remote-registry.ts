/**
 * Remote docker/oci repositories: a proxy of an upstream registry (`url` of the remote, e.g.
 * `https://registry-1.docker.io`, `http://127.0.0.1:5000`, or an Arca repository's
 * `http://host/artifactory/api/docker/<repo>`), cached in the remote's own item tree with
 * the layout of local repositories (../layout.ts):
 * - a manifest fetched by digest is kept for good (content by digest never changes);
 * - a manifest fetched by tag is kept by digest and under the tag; the tag is checked again
 *   once `retrievalCachePeriodSecs` have passed since the last check (a HEAD of the
 *   upstream manifest: the same digest only renews the check, another one fetches the new
 *   manifest), and the cached one is served while the upstream fails or is offline;
 * - a blob is fetched, verified against its digest while it streams into the content
 *   store, and linked to the image; concurrent fetches of one manifest or blob in a process
 *   share one upstream request;
 * - tags are the upstream's (all pages) with the cached ones; referrers the upstream's
 *   when it has the referrers API, else those cached.
 * Authentication towards the upstream is remote-upstream.ts (token service or Basic).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Clock } from '../../../core/clock.js';
import { checksumsOf } from '../../../core/digests.js';
import { ArcaError } from '../../../core/errors.js';
import type { ItemRow, PropertyMap } from '../../../db/items.js';
import { blobLinkPath, digestFolder, manifestFileName, referrerLinkPath, tagFolder } from '../layout.js';
import { MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from '../manifest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../media-types.js';
import { parseDigest, type Digest, type ManifestReference } from '../reference.js';
import type { ReferrerDescriptor, ReferrersIndex } from '../referrers.js';
import { getCacheRecord, putCacheRecord, touchCacheRecord } from '../../../services/remote/cache-records.js';
import type { RemoteSettings } from '../../../services/remote/remote-settings.js';
import { readSmall, upstreamOrigin, UpstreamRefused, UpstreamUnreachable, type UpstreamResponse } from '../../../services/remote/upstream-client.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { BLOB_MIME_TYPE } from './blobs.js';
import type { StoredManifest } from './manifests.js';
import type { OciRegistry } from './oci-registry.js';
import { RegistryUpstream, TokenRefused } from './remote-upstream.js';

/** Every manifest type this registry stores: the upstream picks what it has. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

export interface OciRemoteDeps {
  reg: OciRegistry;
  clock: Clock;
  /** The remote's settings, password decrypted. */
  settings(repo: RepoConfig): RemoteSettings;
}

/** The upstream was not asked (offline, assumed offline) or could not be used: the cache answers. */
class Unavailable extends Error {}

const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function failed(message: string): ArcaError {
  return new ArcaError('UPSTREAM_FAILED', message);
}

/** The digest of `bytes` in the algorithm of `d`, as hex. */
function hexOf(d: Digest, bytes: Buffer, sha256hex: string): string {
  return d.algorithm === 'sha256' ? sha256hex : createHash(d.algorithm).update(bytes).digest('hex');
}

/** Passes a stream through, taking a digest the content store does not compute (sha512) on the way. */
function hashing(source: AsyncIterable<Uint8Array>, algorithm: string): { stream: AsyncIterable<Uint8Array>; hex(): string } {
  const hash = createHash(algorithm);
  let hex = '';
  async function* pass() {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
    hex = hash.digest('hex');
  }
  return { stream: pass(), hex: () => hex };
}

export class OciRemote {
  private readonly upstream: RegistryUpstream;
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Until when (epoch ms) a remote is assumed offline after a network failure. */
  private readonly offlineUntil = new Map<string, number>();

  constructor(private readonly deps: OciRemoteDeps) {
    this.upstream = new RegistryUpstream(deps.clock);
  }

  /** The image's name upstream: Docker Hub keeps official images under `library/`. */
  upstreamName(repo: RepoConfig, image: string): string {
    const host = (() => {
      try {
        return new URL(String(repo.url)).hostname;
      } catch {
        return '';
      }
    })();
    const hub = ['registry-1.docker.io', 'docker.io', 'index.docker.io', 'registry.hub.docker.com'].includes(host);
    return hub && !image.includes('/') ? `library/${image}` : image;
  }

  /** One upstream request of an image (`rest` below `/v2/<name>/`). */
  private async ask(repo: RepoConfig, image: string, rest: string, method: 'GET' | 'HEAD', headers: Record<string, string> = {}): Promise<UpstreamResponse> {
    const s = this.deps.settings(repo);
    const now = this.deps.clock.now();
    if (s.offline) throw new Unavailable(`Remote repository '${repo.key}' is offline`);
    if ((this.offlineUntil.get(repo.key) ?? 0) > now) throw new Unavailable(`Remote repository '${repo.key}' is assumed offline after a failure; try again later`);
    const name = this.upstreamName(repo, image);
    const url = s.url.replace(/\/v2$/, '');
    try {
      const res = await this.upstream.request(repo.key, { ...s, url }, `v2/${name}/${rest}`, { method, headers }, `repository:${name}:pull`);
      this.offlineUntil.delete(repo.key);
      return res;
    } catch (err) {
      if (err instanceof UpstreamUnreachable) {
        // A refused address is the configuration's doing, not a network failure: no offline period.
        if (!(err instanceof UpstreamRefused)) this.offlineUntil.set(repo.key, now + s.assumedOfflinePeriodSecs * 1000);
        throw new Unavailable(err.message);
      }
      if (err instanceof TokenRefused) throw new Unavailable(err.message);
      throw err;
    }
  }

  /** Runs `work` once per key at a time in this process; concurrent callers share its result. */
  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** A manifest by tag or digest: cached, re-checked or fetched; undefined when the upstream has none. */
  async manifest(repo: RepoConfig, image: string, ref: ManifestReference, user: string): Promise<StoredManifest | undefined> {
    const cached = await this.deps.reg.manifests.resolve(repo.key, image, ref);
    if (ref.kind === 'digest') {
      if (cached) return cached;
      return this.once(`m\u0000${repo.key}\u0000${image}\u0000${ref.digest.text}`, () => this.fetchManifest(repo, image, ref, user, undefined));
    }
    if (cached) {
      const record = await getCacheRecord(this.deps.reg.store.database, repo.key, tagFolder(image, ref.tag));
      const checked = record?.status === 'found' ? record.checked : cached.item.updated;
      if (this.deps.clock.now() - checked < this.deps.settings(repo).retrievalCachePeriodSecs * 1000) return cached;
    }
    return this.once(`t\u0000${repo.key}\u0000${image}\u0000${ref.tag}`, () => this.refreshTag(repo, image, ref, user, cached));
  }

  private async refreshTag(repo: RepoConfig, image: string, ref: ManifestReference & { kind: 'tag' }, user: string, cached: StoredManifest | undefined) {
    try {
      if (cached) {
        const head = await this.ask(repo, image, `manifests/${encodeURIComponent(ref.tag)}`, 'HEAD', { accept: MANIFEST_ACCEPT });
        head.cancel();
        const digest = head.headers.get('docker-content-digest');
        // Unchanged, or gone upstream (the cached copy stays what this remote serves): checked.
        if ((head.status === 200 && digest === cached.digest) || head.status === 404) {
          await this.markChecked(repo, image, ref.tag, head.url);
          return cached;
        }
        if (head.status !== 200) return cached;
      }
      return await this.fetchManifest(repo, image, ref, user, cached);
    } catch (err) {
      if (err instanceof Unavailable || err instanceof UpstreamUnreachable || (cached && err instanceof ArcaError && err.code === 'UPSTREAM_FAILED')) {
        if (cached) return cached;
        throw failed(err.message);
      }
      throw err;
    }
  }

  private async markChecked(repo: RepoConfig, image: string, tag: string, url: string): Promise<void> {
    const db = this.deps.reg.store.database;
    const path = tagFolder(image, tag);
    const now = this.deps.clock.now();
    if (await getCacheRecord(db, repo.key, path)) await touchCacheRecord(db, repo.key, path, now);
    else await putCacheRecord(db.db, { repo: repo.key, path, status: 'found', checked: now, etag: null, last_modified: null, upstream_url: url });
  }

  private async fetchManifest(repo: RepoConfig, image: string, ref: ManifestReference, user: string, cached: StoredManifest | undefined): Promise<StoredManifest | undefined> {
    const reference = ref.kind === 'tag' ? encodeURIComponent(ref.tag) : ref.digest.text;
    let res: UpstreamResponse;
    try {
      res = await this.ask(repo, image, `manifests/${reference}`, 'GET', { accept: MANIFEST_ACCEPT });
    } catch (err) {
      if (err instanceof Unavailable) throw failed(err.message);
      throw err;
    }
    if (res.status === 404) {
      res.cancel();
      return cached;
    }
    if (res.status !== 200) {
      // The upstream's body is never quoted back to the caller.
      res.cancel();
      throw failed(`Upstream ${upstreamOrigin(res.url)} answered HTTP ${res.status}`);
    }
    const bytes = await readSmall(res, MAX_MANIFEST_BYTES + 1).catch((err: unknown) => {
      throw failed((err as Error).message);
    });
    if (bytes.length > MAX_MANIFEST_BYTES) throw failed(`The manifest at ${upstreamOrigin(res.url)} is larger than ${MAX_MANIFEST_BYTES} bytes`);
    let m: ParsedManifest;
    try {
      m = parseManifest(bytes, res.headers.get('content-type') ?? undefined);
    } catch {
      // Not the parser's reason: it quotes the upstream's content.
      throw failed(`The manifest at ${upstreamOrigin(res.url)} is not valid: it is neither an image manifest nor an index`);
    }
    const sums = checksumsOf(bytes);
    let digest: Digest = { algorithm: 'sha256', hex: sums.sha256, text: `sha256:${sums.sha256}` };
    const declared = ref.kind === 'digest' ? ref.digest.text : res.headers.get('docker-content-digest');
    if (declared) {
      let d: Digest;
      try {
        d = parseDigest(declared);
      } catch {
        throw failed(`Upstream ${upstreamOrigin(res.url)} declares a digest this registry cannot verify`);
      }
      const actual = hexOf(d, bytes, sums.sha256);
      if (actual !== d.hex) throw failed(`The manifest from ${upstreamOrigin(res.url)} has ${d.algorithm} ${actual}, not ${d.text}: not cached`);
      if (ref.kind === 'digest') digest = d;
    }
    await this.storeManifest(repo, image, ref, bytes, m, digest, user, res.url);
    return this.deps.reg.manifests.resolve(repo.key, image, ref);
  }

  private async storeManifest(repo: RepoConfig, image: string, ref: ManifestReference, bytes: Buffer, m: ParsedManifest, digest: Digest, user: string, url: string) {
    const { store } = this.deps.reg;
    const staged = await store.content.stage(Readable.from([bytes]));
    const file = manifestFileName(m.kind);
    const sha256 = checksumsOf(bytes).sha256;
    const props: PropertyMap = { 'docker.repoName': [image], 'docker.manifest.digest': [digest.text], 'docker.manifest.type': [m.mediaType], sha256: [sha256] };
    const write = (trx: Parameters<typeof store.putFile>[0], path: string, extra: PropertyMap = {}) =>
      store.putFile(trx, { repo: repo.key, path, binary: staged, mimeType: m.mediaType, user, properties: { ...props, ...extra } });
    await store.transaction(
      [],
      async (trx) => {
        await write(trx, `${digestFolder(image, digest)}/${file}`);
        if (ref.kind === 'tag') {
          const folder = tagFolder(image, ref.tag);
          await store.remove(trx, repo.key, folder);
          await write(trx, `${folder}/${file}`, { 'docker.manifest': [ref.tag] });
          await putCacheRecord(trx, { repo: repo.key, path: folder, status: 'found', checked: this.deps.clock.now(), etag: null, last_modified: null, upstream_url: url });
        }
        if (m.subject) await store.putFile(trx, { repo: repo.key, path: referrerLinkPath(image, m.subject.digest, digest), binary: staged, mimeType: m.mediaType, user });
      },
      staged,
    );
  }

  /** A blob: cached, else fetched and verified; undefined when the upstream has none. */
  async blob(repo: RepoConfig, image: string, d: Digest, user: string): Promise<ItemRow | undefined> {
    const found = await this.deps.reg.blobs.find(repo.key, image, d);
    if (found) return found;
    return this.once(`b\u0000${repo.key}\u0000${image}\u0000${d.text}`, () => this.fetchBlob(repo, image, d, user));
  }

  private async fetchBlob(repo: RepoConfig, image: string, d: Digest, user: string): Promise<ItemRow | undefined> {
    let res: UpstreamResponse;
    try {
      res = await this.ask(repo, image, `blobs/${d.text}`, 'GET');
    } catch (err) {
      if (err instanceof Unavailable) throw failed(err.message);
      throw err;
    }
    if (res.status === 404) {
      res.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      res.cancel();
      throw failed(`Upstream ${upstreamOrigin(res.url)} answered HTTP ${res.status} for blob ${d.text}`);
    }
    const { store } = this.deps.reg;
    const h = hashing(res.body, d.algorithm);
    const staged = await store.content.stage(h.stream).catch((err: unknown) => {
      throw err instanceof UpstreamUnreachable ? failed(err.message) : err;
    });
    const actual = d.algorithm === 'sha256' ? staged.sha256 : h.hex();
    if (actual !== d.hex) {
      await staged.discard();
      throw failed(`The blob from ${upstreamOrigin(res.url)} has ${d.algorithm} ${actual}, not ${d.text}: not cached`);
    }
    return store.transaction([], (trx) => store.putFile(trx, { repo: repo.key, path: blobLinkPath(image, d), binary: staged, mimeType: BLOB_MIME_TYPE, user }), staged);
  }

  /** The image's tags: the upstream's with those cached; undefined when neither knows the image. */
  async tags(repo: RepoConfig, image: string): Promise<string[] | undefined> {
    const cached = await this.deps.reg.discovery.tags(repo.key, image);
    let upstream: string[] | undefined;
    try {
      upstream = await this.upstreamTags(repo, image);
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
    }
    if (!upstream && !cached) return undefined;
    return [...new Set([...(upstream ?? []), ...(cached ?? [])])].sort(ascii);
  }

  private async upstreamTags(repo: RepoConfig, image: string): Promise<string[] | undefined> {
    const tags: string[] = [];
    let rest: string | undefined = 'tags/list';
    for (let page = 0; rest && page < 100; page++) {
      const res: UpstreamResponse = await this.ask(repo, image, rest, 'GET', { accept: 'application/json' });
      if (res.status === 404 && page === 0) {
        res.cancel();
        return undefined;
      }
      if (res.status !== 200) {
        res.cancel();
        throw new Unavailable(`Upstream ${upstreamOrigin(res.url)} answered HTTP ${res.status}`);
      }
      let body: { tags?: unknown };
      try {
        body = JSON.parse((await readSmall(res, 16 << 20)).toString('utf8')) as { tags?: unknown };
      } catch {
        throw new Unavailable(`Upstream ${upstreamOrigin(res.url)} did not answer a tags list`);
      }
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string') tags.push(t);
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      const query = next ? next[1].split('?')[1] : undefined;
      rest = query ? `tags/list?${query}` : undefined;
    }
    return tags;
  }

  /** The referrers of `subject`: the upstream's (filtered here too), else those cached. */
  async referrers(repo: RepoConfig, image: string, subject: Digest, artifactType?: string): Promise<ReferrersIndex> {
    try {
      const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
      const res = await this.ask(repo, image, `referrers/${subject.text}${q}`, 'GET', { accept: OCI_INDEX });
      if (res.status === 200) {
        const body = JSON.parse((await readSmall(res, MAX_MANIFEST_BYTES)).toString('utf8')) as { manifests?: unknown };
        if (Array.isArray(body.manifests)) {
          const manifests = (body.manifests as ReferrerDescriptor[]).filter(
            (m) => m && typeof m.digest === 'string' && typeof m.mediaType === 'string' && typeof m.size === 'number' && (artifactType === undefined || m.artifactType === artifactType),
          );
          return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
        }
      } else res.cancel();
    } catch (err) {
      if (!(err instanceof Unavailable) && !(err instanceof SyntaxError) && !(err instanceof UpstreamUnreachable)) throw err;
    }
    return this.deps.reg.discovery.referrers(repo.key, image, subject, artifactType);
  }
}
