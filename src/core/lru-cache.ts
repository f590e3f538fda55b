/** A size-bounded LRU map (Map keeps insertion order; a hit re-inserts the entry). */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  private total = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    const w = this.weigh(value);
    if (w > this.maxWeight) return;
    this.delete(key);
    this.map.set(key, value);
    this.total += w;
    while (this.total > this.maxWeight) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.total -= this.weigh(v);
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  get size(): number {
    return this.map.size;
  }
}
