/**
 * The in-memory index of the cache-fs provider: every cached binary with its size, in least
 * recently used order, and the bytes reserved by fills that are about to be renamed in. The
 * cached plus reserved bytes never exceed `maxBytes`: making room evicts entries from the
 * index at once and returns them for the caller to unlink.
 */
export class CacheIndex {
  /** sha1 → size; Map iteration order is insertion order, so the first entry is the least recently used. */
  private readonly entries = new Map<string, number>();
  private cached = 0;
  private reserved = 0;

  constructor(readonly maxBytes: number) {}

  get cachedBytes(): number {
    return this.cached;
  }

  get count(): number {
    return this.entries.size;
  }

  has(sha1: string): boolean {
    return this.entries.has(sha1);
  }

  /** Marks an entry as most recently used. */
  touch(sha1: string): void {
    const size = this.entries.get(sha1);
    if (size === undefined) return;
    this.entries.delete(sha1);
    this.entries.set(sha1, size);
  }

  /** Least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Loads an entry found on disk at start (callers add them oldest first). Returns the entries to evict. */
  load(sha1: string, size: number): string[] {
    if (this.entries.has(sha1)) return [];
    this.entries.set(sha1, size);
    this.cached += size;
    return this.evict(0);
  }

  /**
   * Reserves room for `size` bytes, evicting the least recently used entries. `ok` is false
   * when the bytes do not fit even with the cache emptied (too large, or other fills hold
   * the room); `victims` are the keys evicted either way, for the caller to unlink.
   */
  reserve(size: number): { ok: boolean; victims: string[] } {
    if (size > this.maxBytes) return { ok: false, victims: [] };
    const victims = this.evict(size);
    if (this.cached + this.reserved + size > this.maxBytes) return { ok: false, victims };
    this.reserved += size;
    return { ok: true, victims };
  }

  /** Gives back a reservation that was not used. */
  release(size: number): void {
    this.reserved = Math.max(0, this.reserved - size);
  }

  /** Turns a reservation into an entry (most recently used). An existing entry keeps its size and the reservation is released. */
  commit(sha1: string, size: number): void {
    this.release(size);
    if (this.entries.has(sha1)) {
      this.touch(sha1);
      return;
    }
    this.entries.set(sha1, size);
    this.cached += size;
  }

  /** Forgets an entry; returns whether it was there. */
  remove(sha1: string): boolean {
    const size = this.entries.get(sha1);
    if (size === undefined) return false;
    this.entries.delete(sha1);
    this.cached -= size;
    return true;
  }

  private evict(incoming: number): string[] {
    const victims: string[] = [];
    for (const [sha1, size] of this.entries) {
      if (this.cached + this.reserved + incoming <= this.maxBytes) break;
      this.entries.delete(sha1);
      this.cached -= size;
      victims.push(sha1);
    }
    return victims;
  }
}
