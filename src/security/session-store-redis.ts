import type { Redis } from 'ioredis';
import type { SessionRecord, SessionStore } from './session-store.js';

export interface RedisSessionOptions {
  url: string;
  keyPrefix: string;
  /** Told about connection errors (throttled by the caller if it likes). */
  onError?(err: Error): void;
}

type Stored = Omit<SessionRecord, 'idHash'>;

/**
 * Sessions in Redis (`artifactory.map.provider.type=distributed`; the seed's product used
 * Hazelcast there). One key per session holding its JSON, with the idle timeout as the key's
 * expiry, so Redis itself removes dead sessions and no cleanup task is needed. Every node
 * reads the same keys: a login through one node is valid on all, a logout ends it on all.
 */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'distributed' as const;

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Connects in the background; commands fail fast (not queue forever) while Redis is down. */
  static async open(options: RedisSessionOptions): Promise<RedisSessionStore> {
    // Loaded only by nodes that use distributed sessions.
    const mod = (await import('ioredis')) as unknown as { default: new (url: string, o: object) => Redis };
    const redis = new mod.default(options.url, {
      connectTimeout: 2000,
      commandTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000),
    });
    redis.on('error', (err: Error) => options.onError?.(err));
    return new RedisSessionStore(redis, options.keyPrefix);
  }

  private key(idHash: string): string {
    return this.prefix + idHash;
  }

  async create(r: SessionRecord): Promise<void> {
    const { idHash, ...stored } = r;
    await this.redis.set(this.key(idHash), JSON.stringify(stored), 'PX', Math.max(1, r.expires - r.lastAccess));
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const text = await this.redis.get(this.key(idHash));
    if (text === null) return undefined;
    try {
      return { idHash, ...(JSON.parse(text) as Stored) };
    } catch {
      return undefined;
    }
  }

  async touch(idHash: string, lastAccess: number, expires: number): Promise<void> {
    const current = await this.get(idHash);
    if (!current) return;
    const { idHash: _, ...stored } = { ...current, lastAccess, expires };
    // XX: only while the key still exists, so a logout on another node is never undone.
    await this.redis.set(this.key(idHash), JSON.stringify(stored), 'PX', Math.max(1, expires - lastAccess), 'XX');
  }

  async delete(idHash: string): Promise<void> {
    await this.redis.del(this.key(idHash));
  }

  async cleanup(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
