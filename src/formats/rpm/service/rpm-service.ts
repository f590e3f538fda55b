import { LruCache } from '../../../core/lru-cache.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { FormatReadAnswer, FormatReadRequest, FormatReads } from '../../format-handler.js';
import type { FormatServiceDeps } from '../../format-services.js';
import { PUBLIC_KEY, REPODATA, REPOMD, repodataFile, SIGNATURE, underRoot } from '../layout.js';
import { MAX_REPOMD_BYTES, RemoteRepodata } from './remote-repodata.js';
import { VirtualRepodata } from './virtual-repodata.js';

/**
 * The reads of RPM repositories that are made rather than stored (every other path, packages
 * included, is read as stored or proxied):
 * - `repodata/repomd.xml.asc`: the repomd.xml the caller reads, signed when read by the
 *   repository's key (deps.signing), in every repository class; `repodata/repomd.xml.key`: that
 *   key's public half (what a `.repo` file's `gpgkey=` can point at);
 * - a remote's `repodata/`: the upstream's repomd.xml, checked against the upstream key when
 *   the remote has one (`rpmUpstreamPublicKey`), and its data files, checked against the
 *   checksums repomd.xml lists;
 * - a virtual's `repodata/`: its members' metadata merged (virtual-repodata.ts).
 */
export class RpmService {
  /** Signatures by the SHA-1 of what they sign and the key's fingerprint. */
  private readonly signatures = new LruCache<Buffer>(4 * 1024 * 1024, (b) => b.length);
  readonly remote: RemoteRepodata;
  readonly virtual: VirtualRepodata;

  constructor(private readonly deps: FormatServiceDeps) {
    this.remote = new RemoteRepodata(deps);
    this.virtual = new VirtualRepodata(deps, this.remote, (repo, data, key, modified) => this.signed(repo, data, key, modified));
  }

  reads(): FormatReads<Access, ItemRow> {
    return {
      handles: (repo, path) => {
        const at = repodataFile(path);
        if (!at) return false;
        return repo.rclass === 'local' ? at.name === SIGNATURE || at.name === PUBLIC_KEY : true;
      },
      read: (request) => this.read(request),
    };
  }

  private async read(request: FormatReadRequest<Access>): Promise<FormatReadAnswer<ItemRow>> {
    const repo = request.repo as RepoConfig;
    const { root, name } = repodataFile(request.path)!;
    if (name === PUBLIC_KEY) return this.publicKey(request.access, repo, request.path);
    if (repo.rclass === 'virtual') return this.virtual.read(request.access, repo, root, name, request.cacheOnly);
    if (name === SIGNATURE) {
      const repomd = repo.rclass === 'remote' ? await this.remote.remoteRepomd(request.access, repo, root, request.cacheOnly) : await this.deps.artifacts.find(repo.key, underRoot(root, `${REPODATA}/${REPOMD}`));
      if (repomd?.type !== 'file' || !repomd.sha1) return { kind: 'missing' };
      return this.signed(repo, await this.remote.readItem(repomd, MAX_REPOMD_BYTES, repo), repomd.sha1, repomd.modified);
    }
    if (repo.rclass !== 'remote') return { kind: 'pass' };
    if (name === REPOMD) {
      const item = await this.remote.remoteRepomd(request.access, repo, root, request.cacheOnly);
      return item ? { kind: 'item', item } : { kind: 'missing' };
    }
    const item = await this.remote.remoteDataFile(request.access, repo, root, name, request.cacheOnly);
    return item ? { kind: 'item', item } : { kind: 'missing' };
  }

  private async publicKey(access: Access, repo: RepoConfig, path: string): Promise<FormatReadAnswer<ItemRow>> {
    if (repo.rclass === 'virtual' && !(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}/${path}'`);
    const signer = await this.deps.signing.forRepository(repo.key);
    return { kind: 'bytes', data: Buffer.from(signer.publicKeyArmored), modified: 0, type: 'application/pgp-keys' };
  }

  /** `data` signed by `repo`'s key, as the bytes of `repomd.xml.asc`. */
  async signed(repo: RepoConfig, data: Buffer, sha1: string, modified: number): Promise<FormatReadAnswer<ItemRow>> {
    const signer = await this.deps.signing.forRepository(repo.key);
    const key = `${sha1} ${signer.fingerprint}`;
    let signature = this.signatures.get(key);
    if (!signature) {
      signature = Buffer.from(await signer.detachSign(data));
      this.signatures.set(key, signature);
    }
    return { kind: 'bytes', data: signature, modified, type: 'application/pgp-signature' };
  }

}
