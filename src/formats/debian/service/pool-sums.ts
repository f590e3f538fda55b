import { createGunzip } from 'node:zlib';
import type { ContentStore } from '../../../content/content-store.js';
import { ArcaError } from '../../../core/errors.js';
import { LruCache } from '../../../core/lru-cache.js';
import { fullPathOf, type ItemRow } from '../../../db/items.js';
import type { ArtifactService } from '../../../services/artifacts.js';
import { MAX_UPSTREAM_INDEX_BYTES } from './limits.js';

/**
 * The pool files of remote repositories as their checked Packages indexes name them
 * (Filename → size and SHA256), learnt when this node reads such an index, so a pool file
 * fetched from the upstream can be checked before it is served.
 */
export class PoolSums {
  private readonly sums = new LruCache<Map<string, { size: number; sha256: string }>>(256 * 1024 * 1024, (m) => m.size * 160);

  constructor(
    private readonly content: ContentStore,
    private readonly artifacts: ArtifactService,
  ) {}

  /** Remembers the pool files a checked Packages text names (for checking them when they are fetched). */
  learn(repoKey: string, text: Iterable<string>): void {
    let sums = this.sums.get(repoKey);
    if (!sums) sums = new Map();
    let filename = '';
    let size = -1;
    let sha256 = '';
    const flush = () => {
      if (filename && sha256 && size >= 0) sums!.set(filename.replace(/^\.\//, ''), { size, sha256: sha256.toLowerCase() });
      filename = '';
      size = -1;
      sha256 = '';
    };
    for (const line of text) {
      if (line === '' || line === '\r') flush();
      else if (line.startsWith('Filename:')) filename = line.slice(9).trim();
      else if (line.startsWith('Size:')) size = Number(line.slice(5).trim());
      else if (line.startsWith('SHA256:')) sha256 = line.slice(7).trim();
    }
    flush();
    // Re-set: the cache weighs the map by its size now.
    this.sums.set(repoKey, sums);
  }

  /** Reads a cached Packages file (gzip'd or not) line by line, remembering the pool files it names. */
  async learnItem(repoKey: string, item: ItemRow, gz: boolean): Promise<void> {
    const source = await this.content.read(item.sha1!);
    const stream = gz ? source.pipe(createGunzip()) : source;
    let rest = '';
    let lines: string[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > MAX_UPSTREAM_INDEX_BYTES) throw new ArcaError('UPSTREAM_FAILED', `The Packages of '${repoKey}' unpack to more than ${MAX_UPSTREAM_INDEX_BYTES} bytes`);
      const text = rest + (chunk as Buffer).toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop()!;
      lines = lines.concat(parts);
      if (lines.length > 10_000) {
        this.learn(repoKey, lines);
        lines = [];
      }
    }
    lines.push(rest, '');
    this.learn(repoKey, lines);
  }

  /**
   * Checks a remote's cached pool file against the SHA256 its checked Packages gave (when this
   * node has read that Packages): a file that differs is dropped from the cache and refused.
   */
  async check(item: ItemRow): Promise<void> {
    const sums = this.sums.get(item.repo);
    if (!sums) return;
    const path = fullPathOf(item);
    const expected = sums.get(path);
    if (!expected) return;
    if (Number(item.size) === expected.size && item.sha256 === expected.sha256) return;
    await this.artifacts.delete(item.repo, path).catch(() => undefined);
    throw new ArcaError('UPSTREAM_FAILED', `'${item.repo}/${path}' from the upstream does not match the SHA256 its Packages index gives`);
  }
}
