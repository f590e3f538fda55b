import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JWT_SHAPE, signJwt, verifyJwt, type TokenClaims } from './jwt.js';
import { parseScope } from './token-scope.js';

const claims: TokenClaims = { sub: 'jfrt@abc/users/alice', scp: 'applied-permissions/user', aud: '*@*', iss: 'jfrt@abc', iat: 1, exp: 2, jti: 'id-1' };

describe('HS256 tokens', () => {
  const key = randomBytes(32);

  it('signs a JWT that verifies with the same key and whose payload any client can decode', () => {
    const t = signJwt(claims, key, 'kid1');
    expect(JWT_SHAPE.test(t)).toBe(true);
    expect(verifyJwt(t, key)).toEqual(claims);
    expect(JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString())).toMatchObject({ sub: 'jfrt@abc/users/alice', jti: 'id-1' });
    expect(JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT', kid: 'kid1' });
  });

  it('rejects another key, a changed payload, alg none and garbage', () => {
    const t = signJwt(claims, key, 'k');
    expect(verifyJwt(t, randomBytes(32))).toBeUndefined();
    const [h, , s] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'jfrt@abc/users/admin' })).toString('base64url');
    expect(verifyJwt(`${h}.${forged}.${s}`, key)).toBeUndefined();
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(verifyJwt(`${none}.${t.split('.')[1]}.${s}`, key)).toBeUndefined();
    expect(verifyJwt('not.a.token', key)).toBeUndefined();
  });
});

describe('token scopes', () => {
  it.each([
    [undefined, { kind: 'user' }, 'applied-permissions/user'],
    ['applied-permissions/admin', { kind: 'admin' }, 'applied-permissions/admin'],
    ['applied-permissions/groups:a,b api:*', { kind: 'groups', groups: ['a', 'b'] }, 'applied-permissions/groups:a,b api:*'],
    ['member-of-groups:"x","y"', { kind: 'groups', groups: ['x', 'y'] }, 'member-of-groups:"x","y"'],
    ['member-of-groups:*', { kind: 'user' }, 'member-of-groups:*'],
    ['api:*', { kind: 'user' }, 'api:*'],
  ])('parses %s', (scope, applied, text) => {
    expect(parseScope(scope)).toEqual({ applied, text });
  });

  it('refuses two applied scopes, an empty group list and unknown applied-permissions', () => {
    expect(() => parseScope('applied-permissions/user applied-permissions/admin')).toThrow(/only one/);
    expect(() => parseScope('applied-permissions/groups:')).toThrow(/no groups/);
    expect(() => parseScope('applied-permissions/everything')).toThrow(/unknown/);
  });
});
