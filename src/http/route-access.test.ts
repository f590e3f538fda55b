import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../security/types.js';
import type { RepoConfig } from '../services/repositories.js';
import type { AppContext } from './app-context.js';
import { errorHandler } from './error-handler.js';
import { registerRouteAccess } from './route-access.js';

const repo = { key: 'libs-local', rclass: 'local', packageType: 'generic' } as unknown as RepoConfig;
const user = (name: string, admin = false) => ({ name, admin, anonymous: false, groups: [] }) as unknown as Principal;

/** A context whose only writer is 'w', on paths under `ok/`. */
const ctx = {
  security: {
    canAccess: async (p: Principal, action: string, _r: RepoConfig, path: string) => p.admin || (p.name === 'w' && action === 'write' && path.startsWith('ok/')),
    canAny: async (p: Principal, action: string) => p.admin || (p.name === 'w' && action === 'write'),
  },
  settings: { get: async () => ({ hideUnauthorizedResources: false }) },
} as unknown as AppContext;

async function app() {
  const a = Fastify();
  a.setErrorHandler(errorHandler);
  a.decorateRequest('principal', null as unknown as Principal);
  a.addHook('onRequest', async (request) => {
    request.principal = user(String(request.headers['x-user'] ?? 'r'), request.headers['x-user'] === 'admin');
  });
  registerRouteAccess(a, ctx);
  let bodiesRead = 0;
  a.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => {
    bodiesRead++;
    done(null, body);
  });
  a.put('/admin', { config: { access: 'admin' } }, async () => 'ok');
  a.put('/repo/*', { config: { access: async (r) => ({ repo, action: 'write', path: (r.params as { '*': string })['*'] }) } }, async () => 'ok');
  a.post('/upload', { config: { access: async () => ({ repo, action: 'write' }) } }, async () => 'ok');
  return { a, read: () => bodiesRead };
}

describe('route access', () => {
  it('refuses to register a body route that declares no access', async () => {
    const a = Fastify();
    registerRouteAccess(a, ctx);
    expect(() => a.post('/x', async () => 'x')).toThrow('declares no access');
    expect(() => a.get('/y', async () => 'y')).not.toThrow();
  });

  it('checks the declaration before the body is parsed', async () => {
    const { a, read } = await app();
    const put = (url: string, who: string) => a.inject({ method: 'PUT', url, headers: { 'x-user': who, 'content-type': 'application/octet-stream' }, payload: 'body' });
    expect((await put('/admin', 'r')).statusCode).toBe(403);
    expect((await put('/repo/ok/a', 'r')).statusCode).toBe(403);
    expect((await put('/repo/no/a', 'w')).statusCode).toBe(403);
    expect((await a.inject({ method: 'POST', url: '/upload', headers: { 'x-user': 'r' }, payload: 'body' })).statusCode).toBe(403);
    expect(read()).toBe(0);
    expect((await put('/admin', 'admin')).statusCode).toBe(200);
    expect((await put('/repo/ok/a', 'w')).statusCode).toBe(200);
    expect((await a.inject({ method: 'POST', url: '/upload', headers: { 'x-user': 'w', 'content-type': 'text/x' }, payload: 'body' })).statusCode).toBe(200);
    expect(read()).toBe(3);
  });
});
