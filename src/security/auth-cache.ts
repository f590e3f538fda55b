import type { Principal } from './types.js';

interface Entry {
  principal: Principal;
  expires: number;
}

/**
 * Successful authentications by credential hash, so a verified password (scrypt, ~50 ms) or
 * token is not re-checked on every request. Only successes are ever stored. Entries are
 * indexed by user so a lockout can drop that user's entries at once in this process.
 */
export class AuthCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();

  constructor(private readonly max: number) {}

  get(key: string, now: number): Principal | undefined {
    return this.entry(key, now)?.principal;
  }

  /** The live entry with its expiry (so a caller can refresh it before it lapses). */
  entry(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, principal: Principal, expires: number): void {
    this.delete(key);
    while (this.entries.size >= this.max) this.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { principal, expires });
    let keys = this.byUser.get(principal.name);
    if (!keys) this.byUser.set(principal.name, (keys = new Set()));
    keys.add(key);
  }

  dropUser(name: string): void {
    for (const key of this.byUser.get(name) ?? []) this.entries.delete(key);
    this.byUser.delete(name);
  }

  clear(): void {
    this.entries.clear();
    this.byUser.clear();
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    const keys = this.byUser.get(e.principal.name);
    keys?.delete(key);
    if (keys?.size === 0) this.byUser.delete(e.principal.name);
  }
}
