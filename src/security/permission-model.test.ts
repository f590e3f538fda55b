import { describe, expect, it } from 'vitest';
import { isArcaError } from '../core/errors.js';
import { parseV1, parseV2, toV1 } from './permission-model.js';

function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    if (isArcaError(err, 'BAD_REQUEST')) return err.details?.field;
    throw err;
  }
  return undefined;
}

describe('permission target model', () => {
  it('converts v1 letters and comma-separated patterns to the v2 form and back', () => {
    const t = parseV1(
      {
        name: 'p',
        includesPattern: 'org/**, com/**',
        excludesPattern: '**/*.key',
        repositories: ['libs', 'ANY REMOTE'],
        principals: { users: { alice: ['r', 'w'] }, groups: { devs: ['m', 'd', 'n'] } },
      },
      'p',
    );
    expect(t.repo).toEqual({
      'include-patterns': ['org/**', 'com/**'],
      'exclude-patterns': ['**/*.key'],
      repositories: ['libs', 'ANY REMOTE'],
      actions: { users: { alice: ['read', 'write'] }, groups: { devs: ['annotate', 'delete', 'manage'] } },
    });
    expect(toV1(t)).toEqual({
      name: 'p',
      includesPattern: 'org/**,com/**',
      excludesPattern: '**/*.key',
      repositories: ['libs', 'ANY REMOTE'],
      principals: { users: { alice: ['r', 'w'] }, groups: { devs: ['n', 'd', 'm'] } },
    });
  });

  it('defaults include to ** and drops empty exclude patterns', () => {
    const t = parseV2({ name: 'x', repo: { repositories: ['libs'], 'exclude-patterns': [''], actions: { users: { a: ['read'] } } } }, 'x');
    expect(t.repo!['include-patterns']).toEqual(['**']);
    expect(t.repo!['exclude-patterns']).toEqual([]);
    expect(parseV1({ repositories: [] }, 'y').repo!['include-patterns']).toEqual(['**']);
  });

  it('leaves v2-only actions out of the v1 view', () => {
    const t = parseV2({ repo: { repositories: ['libs'], actions: { users: { a: ['distribute', 'read'], b: ['managedXrayMeta'] } } } }, 'x');
    expect(toV1(t).principals.users).toEqual({ a: ['r'] });
  });

  it.each([
    [() => parseV2({ name: 'other' }, 'x'), 'name'],
    [() => parseV2({ repo: { repositories: 'libs' } }, 'x'), 'repo.repositories'],
    [() => parseV2({ repo: { actions: { users: { a: ['fly'] } } } }, 'x'), 'repo.actions.users.a'],
    [() => parseV2({ repo: { actions: { groups: { g: 'read' } } } }, 'x'), 'repo.actions.groups.g'],
    [() => parseV2({ build: 5 }, 'x'), 'build'],
    [() => parseV2({ repo: { 'include-patterns': [1] } }, 'x'), 'repo.include-patterns'],
    [() => parseV1({ principals: { users: { a: ['x'] } } }, 'x'), 'principals.users.a'],
    [() => parseV1({ includesPattern: ['**'] }, 'x'), 'includesPattern'],
    [() => parseV1({}, 'a/b'), 'name'],
  ])('names the bad field %#', (fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });
});
