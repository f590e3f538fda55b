import { describe, expect, it } from 'vitest';
import type { RepoConfig } from '../core/repo-config.js';
import { PermissionEvaluator, PermissionIndex } from './evaluator.js';
import type { PermissionSection, PermissionTarget } from './permission-model.js';
import type { Principal } from './types.js';

const repo = (key: string, rclass: RepoConfig['rclass'] = 'local') => ({ key, rclass }) as RepoConfig;
const LIBS = repo('libs');
const OTHER = repo('other');
const REMOTE = repo('ext', 'remote');

const user = (name: string, groups: string[] = [], extra: Partial<Principal> = {}): Principal => ({
  name,
  admin: false,
  groups,
  anonymous: false,
  via: 'basic',
  ...extra,
});
const ANON: Principal = { name: 'anonymous', admin: false, groups: [], anonymous: true, via: 'anonymous' };

function section(repositories: string[], users: Record<string, string[]>, groups: Record<string, string[]> = {}, include = ['**'], exclude: string[] = []) {
  return { 'include-patterns': include, 'exclude-patterns': exclude, repositories, actions: { users, groups } } as PermissionSection;
}

describe('PermissionIndex', () => {
  const targets: PermissionTarget[] = [
    { name: 'libs-readers', repo: section(['libs'], { alice: ['read'] }, { devs: ['read', 'write'] }) },
    { name: 'org-only', repo: section(['other'], { bob: ['read', 'delete'] }, {}, ['org/**'], ['org/secret/**', '**/*.key']) },
    { name: 'any-local', repo: section(['ANY LOCAL'], { carol: ['annotate'] }) },
    { name: 'any-remote', repo: section(['ANY REMOTE'], { dave: ['read'] }) },
    { name: 'any', repo: section(['ANY'], { erin: ['manage'] }) },
    { name: 'anon', repo: section(['libs'], { anonymous: ['read'] }, {}, ['public/**']) },
    { name: 'builds', build: section(['artifactory-build-info'], { alice: ['read'] }) },
  ];
  const index = new PermissionIndex(targets);

  it('grants an action given to the user on a listed repository, and nothing else', () => {
    const g = index.grantsFor(user('alice'));
    expect(g.allows('read', LIBS, 'a/b.jar')).toBe(true);
    expect(g.allows('read', LIBS, '')).toBe(true);
    expect(g.allows('write', LIBS, 'a/b.jar')).toBe(false);
    expect(g.allows('read', OTHER, 'org/x')).toBe(false);
    expect(g.allows('read', repo('artifactory-build-info'), 'b/1')).toBe(true);
  });

  it('says an action is allowed everywhere only when a grant of it matches every path (listings then skip the check per item)', () => {
    const paths = ['', 'a', 'org', 'org/acme/a.jar', 'org/secret/a.jar', 'x/y.key', 'public/p'];
    const cases: Array<[Principal, 'read' | 'write', RepoConfig, boolean]> = [
      [user('alice'), 'read', LIBS, true],
      [user('alice'), 'write', LIBS, false],
      [user('zed', ['devs']), 'write', LIBS, true],
      [user('bob'), 'read', OTHER, false],
      [user('erin'), 'read', OTHER, true],
      [user('dave'), 'read', REMOTE, true],
      [ANON, 'read', LIBS, false],
      [user('nobody'), 'read', LIBS, false],
    ];
    for (const [p, action, r, everywhere] of cases) {
      const g = index.grantsFor(p);
      expect(g.allowsEverywhere(action, r), `${p.name} ${action} ${r.key}`).toBe(everywhere);
      // Everywhere means every path; not everywhere leaves some path refused here.
      if (everywhere) for (const path of paths) expect(g.allows(action, r, path), `${p.name} ${action} ${r.key}/${path}`).toBe(true);
      else expect(paths.some((path) => !g.allows(action, r, path))).toBe(true);
    }
  });

  it('grants through groups, and ignores groups the principal does not act with', () => {
    expect(index.grantsFor(user('zed', ['devs'])).allows('write', LIBS, 'x')).toBe(true);
    expect(index.grantsFor(user('zed', ['ops'])).allows('read', LIBS, 'x')).toBe(false);
  });

  it('applies include and exclude patterns, with the repository root outside org/**', () => {
    const g = index.grantsFor(user('bob'));
    expect(g.allows('read', OTHER, 'org')).toBe(true);
    expect(g.allows('read', OTHER, 'org/acme/a.jar')).toBe(true);
    expect(g.allows('delete', OTHER, 'org/acme/a.jar')).toBe(true);
    expect(g.allows('read', OTHER, '')).toBe(false);
    expect(g.allows('read', OTHER, 'com/acme/a.jar')).toBe(false);
    expect(g.allows('read', OTHER, 'org/secret/a.jar')).toBe(false);
    expect(g.allows('read', OTHER, 'org/acme/id.key')).toBe(false);
    expect(g.readsAny(OTHER)).toBe(true);
    expect(g.readsAny(LIBS)).toBe(false);
  });

  it('understands the pseudo-repositories ANY, ANY LOCAL and ANY REMOTE', () => {
    expect(index.grantsFor(user('carol')).allows('annotate', LIBS, 'x')).toBe(true);
    expect(index.grantsFor(user('carol')).allows('annotate', REMOTE, 'x')).toBe(false);
    expect(index.grantsFor(user('carol')).allows('annotate', repo('fed', 'federated'), 'x')).toBe(true);
    expect(index.grantsFor(user('dave')).allows('read', REMOTE, 'x')).toBe(true);
    expect(index.grantsFor(user('dave')).allows('read', LIBS, 'x')).toBe(false);
    expect(index.grantsFor(user('erin')).allows('read', REMOTE, 'x')).toBe(true);
    expect(index.grantsFor(user('erin')).allows('write', repo('virt', 'virtual'), 'x')).toBe(true);
  });

  it('lets manage imply every action', () => {
    const g = index.grantsFor(user('erin'));
    for (const a of ['read', 'write', 'annotate', 'delete', 'manage'] as const) expect(g.allows(a, LIBS, 'x/y')).toBe(true);
  });

  it("gives the anonymous principal only what is granted to 'anonymous'", () => {
    const g = index.grantsFor(ANON);
    expect(g.allows('read', LIBS, 'public/a.txt')).toBe(true);
    expect(g.allows('read', LIBS, 'private/a.txt')).toBe(false);
    expect(index.grantsFor(user('anonymous-lookalike')).allows('read', LIBS, 'public/a.txt')).toBe(false);
  });

  it('ignores grants to the user name for a group-scoped principal', () => {
    expect(index.grantsFor(user('alice', [], { groupsOnly: true })).allows('read', LIBS, 'x')).toBe(false);
    expect(index.grantsFor(user('alice', ['devs'], { groupsOnly: true })).allows('write', LIBS, 'x')).toBe(true);
  });
});

describe('PermissionEvaluator', () => {
  it('loads the targets once, caches per principal, and reloads after invalidate()', async () => {
    let loads = 0;
    let targets: PermissionTarget[] = [{ name: 't', repo: section(['libs'], { alice: ['read'] }) }];
    const ev = new PermissionEvaluator(async () => {
      loads++;
      return targets;
    });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ev.allows(user(i % 2 ? 'alice' : 'bob'), 'read', LIBS, `f${i}`)));
    expect(results.filter(Boolean)).toHaveLength(25);
    expect(loads).toBe(1);
    for (let i = 0; i < 1000; i++) await ev.allows(user('alice'), 'read', LIBS, `p/${i}`);
    expect(loads).toBe(1);
    targets = [{ name: 't', repo: section(['libs'], { bob: ['read'] }) }];
    expect(await ev.allows(user('bob'), 'read', LIBS, 'x')).toBe(false);
    ev.invalidate();
    expect(await ev.allows(user('bob'), 'read', LIBS, 'x')).toBe(true);
    expect(await ev.allows(user('alice'), 'read', LIBS, 'x')).toBe(false);
    expect(loads).toBe(2);
  });

  it('does not keep a load that raced with an invalidation', async () => {
    let release!: () => void;
    let targets: PermissionTarget[] = [{ name: 't', repo: section(['libs'], { alice: ['read'] }) }];
    const ev = new PermissionEvaluator(async () => {
      const snapshot = targets;
      await new Promise<void>((r) => (release = r));
      return snapshot;
    });
    const first = ev.allows(user('alice'), 'read', LIBS, 'x');
    await new Promise((r) => setImmediate(r));
    targets = [];
    ev.invalidate();
    release();
    expect(await first).toBe(true);
    const second = ev.allows(user('alice'), 'read', LIBS, 'x');
    await new Promise((r) => setImmediate(r));
    release();
    expect(await second).toBe(false);
  });
});

describe('PrincipalGrants decision cache', () => {
  it('gives the same answers with many grants on one repository (cached) as with few (not cached)', () => {
    const many: PermissionTarget[] = Array.from({ length: 30 }, (_, i) => ({
      name: `t${i}`,
      repo: section(['libs'], { bob: i % 2 ? ['read'] : ['write'] }, {}, [`team${i}/**`], ['**/*.tmp']),
    }));
    const g = new PermissionIndex(many).grantsFor(user('bob'));
    for (let round = 0; round < 2; round++) {
      expect(g.allows('read', LIBS, 'team1/a.jar')).toBe(true);
      expect(g.allows('write', LIBS, 'team1/a.jar')).toBe(false);
      expect(g.allows('write', LIBS, 'team2/a.jar')).toBe(true);
      expect(g.allows('read', LIBS, 'team1/a.tmp')).toBe(false);
      expect(g.allows('read', LIBS, 'team99/a.jar')).toBe(false);
      expect(g.allows('read', OTHER, 'team1/a.jar')).toBe(false);
    }
    for (let i = 0; i < 10_000; i++) expect(g.allows('read', LIBS, `team${i % 40}/${i}`)).toBe(i % 40 < 30 && (i % 40) % 2 === 1);
  });
});
