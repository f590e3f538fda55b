import { compilePatterns } from '../core/glob.js';
import { LruCache } from '../core/lru-cache.js';
import type { RepoConfig } from '../core/repo-config.js';
import { SECTIONS, type PermissionSection, type PermissionTarget, type V2Action } from './permission-model.js';
import type { Action, Principal } from './types.js';

/** One bit per action; `manage` implies every other action. */
export const ACTION_BITS: Record<Action, number> = { read: 1, write: 2, annotate: 4, delete: 8, manage: 16 };
const ALL = 31;

function maskOf(actions: V2Action[]): number {
  let m = 0;
  for (const a of actions) {
    const bit = (ACTION_BITS as Record<string, number | undefined>)[a];
    if (bit !== undefined) m |= bit;
  }
  return m & ACTION_BITS.manage ? ALL : m;
}

/** A permission section compiled for fast matching. */
interface CompiledSection {
  target: string;
  repos: Set<string>;
  any: boolean;
  anyLocal: boolean;
  anyRemote: boolean;
  include: RegExp | undefined;
  exclude: RegExp | undefined;
  /** Include matches every path and nothing is excluded: no regex test needed. */
  everyPath: boolean;
  users: Map<string, number>;
  groups: Map<string, number>;
}

function compileSection(target: string, s: PermissionSection): CompiledSection {
  const include = compilePatterns(s['include-patterns'].join(','));
  const exclude = compilePatterns(s['exclude-patterns'].join(','));
  const toMasks = (m: Record<string, V2Action[]>) => new Map(Object.entries(m).map(([k, v]) => [k, maskOf(v)] as const));
  return {
    target,
    repos: new Set(s.repositories),
    any: s.repositories.includes('ANY'),
    anyLocal: s.repositories.includes('ANY LOCAL'),
    anyRemote: s.repositories.includes('ANY REMOTE'),
    include,
    exclude,
    everyPath: include !== undefined && exclude === undefined && include.test('') && include.test('a/b/c.d'),
    users: toMasks(s.actions.users),
    groups: toMasks(s.actions.groups),
  };
}

function appliesTo(s: CompiledSection, repo: RepoConfig): boolean {
  if (s.any || s.repos.has(repo.key)) return true;
  if (s.anyLocal && (repo.rclass === 'local' || repo.rclass === 'federated')) return true;
  return s.anyRemote && repo.rclass === 'remote';
}

interface Grant {
  section: CompiledSection;
  mask: number;
}

/** Above this many grants on one repository, decisions are remembered instead of re-evaluated. */
const CACHE_DECISIONS_ABOVE = 8;
const MAX_DECISIONS = 4096;

interface RepoGrants {
  grants: Grant[];
  /** `<bit>:<path>` -> decision; only for long shortlists. */
  decisions?: Map<string, boolean>;
}

/**
 * The grants of one principal, with a per-repository shortlist built on first use. Where a
 * shortlist is long, each (action, path) decision is cached too (bounded).
 */
export class PrincipalGrants {
  private readonly byRepo = new Map<string, RepoGrants>();

  constructor(private readonly grants: Grant[]) {}

  private forRepo(repo: RepoConfig): RepoGrants {
    const key = `${repo.rclass}\u0000${repo.key}`;
    let entry = this.byRepo.get(key);
    if (!entry) {
      const grants = this.grants.filter((g) => appliesTo(g.section, repo));
      entry = grants.length > CACHE_DECISIONS_ABOVE ? { grants, decisions: new Map() } : { grants };
      if (this.byRepo.size > 1000) this.byRepo.clear();
      this.byRepo.set(key, entry);
    }
    return entry;
  }

  allows(action: Action, repo: RepoConfig, path: string): boolean {
    const bit = ACTION_BITS[action];
    const entry = this.forRepo(repo);
    if (!entry.decisions) return decide(entry.grants, bit, path);
    const key = `${bit}:${path}`;
    let d = entry.decisions.get(key);
    if (d === undefined) {
      d = decide(entry.grants, bit, path);
      if (entry.decisions.size >= MAX_DECISIONS) entry.decisions.clear();
      entry.decisions.set(key, d);
    }
    return d;
  }

  /** True when some path of the repository may be read. */
  readsAny(repo: RepoConfig): boolean {
    return this.allowsAny('read', repo);
  }

  /** True when `action` is allowed on some path of the repository. */
  allowsAny(action: Action, repo: RepoConfig): boolean {
    const bit = ACTION_BITS[action];
    return this.forRepo(repo).grants.some((g) => (g.mask & bit) !== 0);
  }

  /**
   * True when `action` is allowed on every path of the repository: a grant of it matches every
   * path (`everyPath`), so `decide` answers true whatever the path.
   */
  allowsEverywhere(action: Action, repo: RepoConfig): boolean {
    const bit = ACTION_BITS[action];
    return this.forRepo(repo).grants.some((g) => (g.mask & bit) !== 0 && g.section.everyPath);
  }

  /** True when the principal holds some permission (any action, any path) in the repository. */
  holdsAny(repo: RepoConfig): boolean {
    return this.forRepo(repo).grants.length > 0;
  }
}

function decide(grants: Grant[], bit: number, path: string): boolean {
  for (const g of grants) {
    if ((g.mask & bit) === 0) continue;
    const s = g.section;
    if (s.everyPath) return true;
    if (s.include?.test(path) && !s.exclude?.test(path)) return true;
  }
  return false;
}

/** Every permission target compiled once; builds principals' grants from it. */
export class PermissionIndex {
  private readonly sections: CompiledSection[];

  constructor(targets: PermissionTarget[]) {
    this.sections = [];
    for (const t of targets) for (const name of SECTIONS) if (t[name]) this.sections.push(compileSection(t.name, t[name]!));
  }

  grantsFor(principal: Principal): PrincipalGrants {
    const grants: Grant[] = [];
    const userName = principal.anonymous ? 'anonymous' : principal.name;
    for (const s of this.sections) {
      let mask = principal.groupsOnly ? 0 : (s.users.get(userName) ?? 0);
      for (const g of principal.groups) mask |= s.groups.get(g) ?? 0;
      if (mask !== 0) grants.push({ section: s, mask });
    }
    return new PrincipalGrants(grants);
  }
}

function principalKey(p: Principal): string {
  return `${p.anonymous ? 'A' : 'U'}${p.groupsOnly ? 'G' : '-'}${p.name}\u0000${p.groups.join('\u0000')}`;
}

/**
 * Authorisation decisions without a database query once warm: the permission targets are
 * loaded and compiled once per process, each principal's grants are compiled on first use,
 * and both are dropped when the 'security' version changes.
 */
export class PermissionEvaluator {
  private index: PermissionIndex | undefined;
  private loading: Promise<PermissionIndex> | undefined;
  private readonly grants = new LruCache<PrincipalGrants>(10_000);
  private generation = 0;

  constructor(private readonly load: () => Promise<PermissionTarget[]>) {}

  invalidate(): void {
    this.generation++;
    this.index = undefined;
    this.loading = undefined;
    this.grants.clear();
  }

  private async currentIndex(): Promise<PermissionIndex> {
    if (this.index) return this.index;
    if (!this.loading) {
      const gen = this.generation;
      const loading = this.load().then((targets) => {
        const index = new PermissionIndex(targets);
        if (gen === this.generation) this.index = index;
        return index;
      });
      loading.catch(() => undefined).finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  async grantsFor(principal: Principal): Promise<PrincipalGrants> {
    const key = principalKey(principal);
    const hit = this.grants.get(key);
    if (hit) return hit;
    const gen = this.generation;
    const grants = (await this.currentIndex()).grantsFor(principal);
    if (gen === this.generation) this.grants.set(key, grants);
    return grants;
  }

  async allows(principal: Principal, action: Action, repo: RepoConfig, path: string): Promise<boolean> {
    return (await this.grantsFor(principal)).allows(action, repo, path);
  }

  /** The decision `allows` would give, when the principal's grants are compiled and current; undefined otherwise. */
  allowsNow(principal: Principal, action: Action, repo: RepoConfig, path: string): boolean | undefined {
    return this.grants.get(principalKey(principal))?.allows(action, repo, path);
  }

  async readsAny(principal: Principal, repo: RepoConfig): Promise<boolean> {
    return (await this.grantsFor(principal)).readsAny(repo);
  }

  async allowsEverywhere(principal: Principal, action: Action, repo: RepoConfig): Promise<boolean> {
    return (await this.grantsFor(principal)).allowsEverywhere(action, repo);
  }

  async holdsAny(principal: Principal, repo: RepoConfig): Promise<boolean> {
    return (await this.grantsFor(principal)).holdsAny(repo);
  }

  async allowsAny(principal: Principal, action: Action, repo: RepoConfig): Promise<boolean> {
    return (await this.grantsFor(principal)).allowsAny(action, repo);
  }
}
