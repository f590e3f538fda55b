import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcaError } from '../core/errors.js';
import { OciError } from '../formats/oci/oci-errors.js';
import { pypiRenderer } from '../formats/pypi/routes/pypi-errors.js';
import { npmRenderer } from '../formats/npm/routes/npm-errors.js';
import { ociRenderer } from '../formats/oci/routes/oci-errors.js';
import { errorHandlerFor, type ErrorHandlerOptions } from './error-handler.js';
import { REALM } from './error-mapper.js';
import { jfrogRenderer, type ErrorRenderer } from './error-renderers.js';

const logged: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line));
    done();
  },
});

/** One scope per protocol under its own prefix, each throwing the same errors. */
async function buildTestApp(): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({ loggerInstance: pino({ level: 'error' }, sink) as FastifyBaseLogger, bodyLimit: 64 });
  const scopes: [string, ErrorRenderer, ErrorHandlerOptions?][] = [
    ['jfrog', jfrogRenderer],
    ['npm', npmRenderer],
    ['pypi', pypiRenderer],
    ['oci', ociRenderer, { challenge: async (request) => [`Bearer realm="http://${request.headers.host}/v2/token"`, 'Basic realm="Arca"'] }],
  ];
  for (const [prefix, renderer, options] of scopes) {
    await app.register(
      async (scope) => {
        scope.setErrorHandler(errorHandlerFor(renderer, options));
        scope.get('/locked', async () => {
          throw new ArcaError('LOCKED_OUT', "User 'carol' is locked; retry in 2 s", { retryAfter: 2 });
        });
        scope.get('/missing', async () => {
          throw new OciError('MANIFEST_UNKNOWN', "Manifest 'v9' is not in 'img'", { detail: { reference: 'v9' } });
        });
        scope.get('/boom', async () => {
          throw new Error('secret detail');
        });
        scope.post('/json', async (request) => request.body);
        scope.get('/midway', async (_request, reply) => {
          reply.raw.writeHead(200, { 'content-type': 'text/plain' });
          reply.raw.write('partial');
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('failed mid-stream');
        });
      },
      { prefix: `/${prefix}` },
    );
  }
  await app.ready();
  return app;
}

describe('errorHandlerFor', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('sends the mapped status and headers in each protocol: Retry-After and the challenge of a lock everywhere', async () => {
    const bodies: Record<string, unknown> = {};
    for (const prefix of ['jfrog', 'npm', 'pypi', 'oci']) {
      const res = await app.inject({ url: `/${prefix}/locked`, headers: { host: 'reg.example' } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['retry-after']).toBe('2');
      bodies[prefix] = String(res.headers['content-type']).startsWith('application/json') ? res.json() : res.body;
      if (prefix === 'oci') {
        expect(res.headers['www-authenticate']).toEqual(['Bearer realm="http://reg.example/v2/token"', 'Basic realm="Arca"']);
        expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
      } else {
        expect(res.headers['www-authenticate']).toBe(REALM);
      }
    }
    const message = "User 'carol' is locked; retry in 2 s";
    expect(bodies).toEqual({
      jfrog: { errors: [{ status: 401, message }] },
      npm: { error: message },
      pypi: `${message}\n`,
      oci: { errors: [{ code: 'UNAUTHORIZED', message }] },
    });
  });

  it('gives a page script (X-Requested-With) no challenge, in any protocol', async () => {
    for (const prefix of ['jfrog', 'npm', 'pypi', 'oci']) {
      const res = await app.inject({ url: `/${prefix}/locked`, headers: { 'x-requested-with': 'XMLHttpRequest' } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.headers['retry-after']).toBe('2');
    }
  });

  it("puts PyPI's message in the reason phrase", async () => {
    const res = await app.inject({ url: '/pypi/missing' });
    expect(res.statusCode).toBe(404);
    expect(res.statusMessage).toBe("Manifest 'v9' is not in 'img'");
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it("answers an OciError with its OCI code and detail, and other protocols with its catalogue status", async () => {
    const oci = await app.inject({ url: '/oci/missing' });
    expect(oci.statusCode).toBe(404);
    expect(oci.json()).toEqual({ errors: [{ code: 'MANIFEST_UNKNOWN', message: "Manifest 'v9' is not in 'img'", detail: { reference: 'v9' } }] });
    const jfrog = await app.inject({ url: '/jfrog/missing' });
    expect(jfrog.json()).toEqual({ errors: [{ status: 404, message: "Manifest 'v9' is not in 'img'" }] });
  });

  it('logs an unexpected error once with its stack and answers 500 without its details', async () => {
    for (const prefix of ['jfrog', 'npm', 'pypi', 'oci']) {
      logged.length = 0;
      const res = await app.inject({ url: `/${prefix}/boom` });
      expect(res.statusCode).toBe(500);
      expect(res.body).toContain('Internal server error');
      expect(res.body).not.toContain('secret detail');
      const errors = logged.filter((l) => l.msg === 'request failed');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: 50, protocol: prefix, url: `/${prefix}/boom`, method: 'GET', err: { message: 'secret detail' } });
      expect((errors[0].err as { stack: string }).stack).toContain('error-handler.test.ts');
    }
  });

  it("answers Fastify's own client errors with their status: bad JSON, a body over the limit", async () => {
    const bad = await app.inject({ method: 'POST', url: '/jfrog/json', headers: { 'content-type': 'application/json' }, payload: '{"a": }' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toMatch(/^Invalid JSON body: /);
    const big = await app.inject({ method: 'POST', url: '/npm/json', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ a: 'x'.repeat(100) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: 'Request body is too large' });
    const ociBig = await app.inject({ method: 'POST', url: '/oci/json', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ a: 'x'.repeat(100) }) });
    expect(ociBig.statusCode).toBe(413);
    expect(ociBig.json().errors[0].code).toBe('SIZE_INVALID');
  });

  it('closes the connection when the response had already started', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const outcome = await new Promise<{ status?: number; body: string; aborted: boolean }>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/npm/midway' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body, aborted: false }));
        res.on('error', () => resolve({ status: res.statusCode, body, aborted: true }));
      });
      req.on('error', () => resolve({ body: '', aborted: true }));
      req.end();
    });
    expect(outcome).toEqual({ status: 200, body: 'partial', aborted: true });
  });
});
