/**
 * The chart repository API of every Helm repository (local, remote, virtual), at the URL
 * Artifactory uses, so `helm repo add x https://host/artifactory/api/helm/{repoKey}` works
 * unchanged:
 *
 *   GET|HEAD /index.yaml                        the index (ETag; If-None-Match → 304)
 *   GET|HEAD /{path}                            a chart archive or provenance file
 *   PUT      /{path}                            deploy a chart archive (or .prov) by path
 *   POST     /api/charts[?force]                ChartMuseum upload: a raw .tgz body, or a form with `chart` and/or `prov`
 *   POST     /api/prov[?force]                  ChartMuseum upload of a provenance file alone
 *   GET|HEAD /api/charts[/{name}[/{version}]]   ChartMuseum reads (`?offset=&limit=` on the list, `latest` as a version)
 *   DELETE   /api/charts/{name}/{version}       ChartMuseum delete of one version
 *
 * Errors are ChartMuseum's `{"error":"…"}`. Bodies are read by each endpoint, within the
 * chart archive limit, after the permission the URL implies was checked (route-access.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf } from '../../../http/auth.js';
import { deployRequestBody } from '../../../http/routes/artifacts/artifacts.js';
import { header, serveBytes, serveFile, serveFound } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { RepoNeed } from '../../../http/route-access.js';
import { requirePackageType } from '../../../services/serve/serve-service.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { MAX_CHART_ARCHIVE_BYTES } from '../chart-archive.js';
import { compareVersions, parseSemVer } from '../chart-metadata.js';
import { formBoundary, parseForm } from '../form.js';
import type { IndexEntry } from '../index-yaml.js';
import { INDEX_MIME, INDEX_PATH } from '../layout.js';
import type { HelmService } from '../service/helm-service.js';

export const HELM_PREFIX = '/artifactory/api/helm/';

/** Largest upload body: a chart, its provenance file and the form around them. */
const MAX_UPLOAD_BYTES = MAX_CHART_ARCHIVE_BYTES + 1024 * 1024;

type Endpoint =
  | { op: 'index' }
  | { op: 'charts' }
  | { op: 'chart'; name: string }
  | { op: 'version'; name: string; version: string }
  | { op: 'upload'; prov: boolean }
  | { op: 'file' };

function endpointOf(method: string, segments: string[]): Endpoint {
  const [a, b, name, version, ...more] = segments;
  if (a === 'api' && b === 'charts' && more.length === 0) {
    if (method === 'POST' && name === undefined) return { op: 'upload', prov: false };
    if (method === 'DELETE' && version !== undefined) return { op: 'version', name, version };
    if (method === 'GET' || method === 'HEAD') {
      if (name === undefined) return { op: 'charts' };
      return version === undefined ? { op: 'chart', name } : { op: 'version', name, version };
    }
    throw new ArcaError('METHOD_NOT_ALLOWED', `${method} is not supported on ${segments.join('/')}`);
  }
  if (a === 'api' && b === 'prov' && segments.length === 2) {
    if (method === 'POST') return { op: 'upload', prov: true };
    throw new ArcaError('METHOD_NOT_ALLOWED', `${method} is not supported on api/prov`);
  }
  if (segments.length === 1 && a === INDEX_PATH && (method === 'GET' || method === 'HEAD')) return { op: 'index' };
  return { op: 'file' };
}

interface Call {
  /** The key as the caller wrote it (`{remote}-cache` addresses a remote's cache). */
  key: string;
  repo: RepoConfig;
  cacheOnly: boolean;
  path: string;
  segments: string[];
  query: URLSearchParams;
}

async function callOf(ctx: AppContext, request: FastifyRequest): Promise<Call> {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  const rp = parseRepoPath(url.slice(url.indexOf(HELM_PREFIX) + HELM_PREFIX.length));
  const { repo, cacheOnly, key } = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  requirePackageType(repo, 'helm', 'a Helm');
  return { key, repo, cacheOnly, path: rp.path, segments: rp.path === '' ? [] : rp.path.split('/'), query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

function json(reply: FastifyReply, status: number, body: unknown, head = false) {
  reply.code(status).type('application/json');
  if (head) return reply.send();
  return reply.send(Buffer.from(JSON.stringify(body)));
}

/** ChartMuseum's version lookup: an exact version, or `latest` (the newest release, else the newest). */
function pickVersion(list: IndexEntry[], version: string): IndexEntry | undefined {
  if (version !== 'latest') return list.find((e) => e.version === version);
  const sorted = [...list].sort((a, b) => compareVersions(b.version, a.version));
  return sorted.find((e) => (parseSemVer(e.version)?.prerelease.length ?? 1) === 0) ?? sorted[0];
}

/** ChartMuseum's paging of `GET /api/charts` (`offset`, `limit`, over chart names in order); undefined: every chart. */
function pageOf(query: URLSearchParams): { offset: number; limit: number } | undefined {
  const offset = query.get('offset');
  const limit = query.get('limit');
  if (offset === null && limit === null) return undefined;
  const o = offset === null ? 0 : Number(offset);
  const l = limit === null ? Number.MAX_SAFE_INTEGER : Number(limit);
  if (!Number.isInteger(o) || o < 0) throw new ArcaError('BAD_REQUEST', 'offset is not a valid non-negative integer');
  if (!Number.isInteger(l) || l <= 0) throw new ArcaError('BAD_REQUEST', 'limit is not a valid positive integer');
  return { offset: o, limit: l };
}

async function upload(helm: HelmService, request: FastifyRequest, reply: FastifyReply, call: Call, prov: boolean) {
  const body = await readBounded(request.raw, MAX_UPLOAD_BYTES, () => new ArcaError('PAYLOAD_TOO_LARGE', `The upload is larger than ${MAX_UPLOAD_BYTES} bytes`));
  const force = call.query.has('force');
  const boundary = formBoundary(header(request, 'content-type'));
  if (boundary) {
    const form = parseForm(body, boundary);
    await helm.upload(request.access, call.repo, call.cacheOnly, { chart: prov ? undefined : form.get('chart'), prov: form.get('prov'), force, form: true });
  } else {
    await helm.upload(request.access, call.repo, call.cacheOnly, prov ? { prov: body, force, form: false } : { chart: body, force, form: false });
  }
  return json(reply, 201, { saved: true });
}

async function handle(ctx: AppContext, helm: HelmService, request: FastifyRequest, reply: FastifyReply) {
  const call = await callOf(ctx, request);
  const { access } = request;
  const head = request.method === 'HEAD';
  const e = endpointOf(request.method, call.segments);
  switch (e.op) {
    case 'index': {
      const answer = await helm.index(access, call.repo, call.cacheOnly);
      if (answer.kind === 'item') return serveFile(ctx, request, reply, answer.item, head);
      return serveBytes(request, reply, INDEX_PATH, answer.data, answer.modified, head, INDEX_MIME);
    }
    case 'charts': {
      const page = pageOf(call.query);
      const entries = [...(await helm.charts(access, call.repo, call.cacheOnly))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return json(reply, 200, Object.fromEntries(page ? entries.slice(page.offset, page.offset + page.limit) : entries), head);
    }
    case 'chart': {
      const list = await helm.chart(access, call.repo, call.cacheOnly, e.name);
      return list ? json(reply, 200, list, head) : json(reply, 404, { error: 'chart not found' }, head);
    }
    case 'version': {
      if (request.method === 'DELETE') {
        await helm.deleteVersion(access, call.repo, e.name, e.version);
        return json(reply, 200, { deleted: true });
      }
      const list = await helm.chart(access, call.repo, call.cacheOnly, e.name);
      const found = list && pickVersion(list, e.version);
      if (found) return json(reply, 200, found, head);
      return json(reply, 404, { error: list ? `no chart version found for ${e.name}-${e.version}` : 'no chart name found' }, head);
    }
    case 'upload':
      return upload(helm, request, reply, call, e.prov);
    case 'file': {
      if (request.method === 'PUT') return deployRequestBody(ctx, request, reply, { repoKey: call.key, path: call.path });
      if (request.method === 'DELETE') {
        await ctx.packages.deploy.delete(call.repo, call.path, access);
        return reply.code(204).send();
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new ArcaError('METHOD_NOT_ALLOWED', `${request.method} is not supported here`);
      helm.checkChartPath(call.path);
      // The serve service decides what the caller may read (members of a virtual in order, a remote's cache).
      const found = await ctx.serve.read(access, { repo: call.repo, cacheOnly: call.cacheOnly, key: call.key }, call.path);
      const sent = await serveFound(ctx, request, reply, call.path, found, head);
      if (!sent) throw new ArcaError('NOT_FOUND', `No chart file at '${call.path}'`);
      return sent;
    }
  }
}

/** What a request needs before its body is read (a cheap early refusal; the use cases decide again). */
async function needOf(ctx: AppContext, helm: HelmService, request: FastifyRequest): Promise<RepoNeed | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const call = await callOf(ctx, request);
  const e = endpointOf(request.method, call.segments);
  if (e.op === 'upload') return { repo: await helm.uploadTarget(call.repo, call.cacheOnly), action: 'write' };
  // A delete through a virtual or remote repository is refused by the delete itself.
  if (e.op === 'version') return call.repo.rclass === 'local' ? { repo: call.repo, action: 'delete' } : undefined;
  if (request.method === 'PUT') return { repo: await ctx.serve.deployTarget(request.access, call.key), action: 'write', path: call.path };
  if (request.method === 'DELETE' && call.repo.rclass !== 'virtual') return { repo: call.repo, action: 'delete', path: call.path };
  return undefined;
}

export async function helmRoutes(app: FastifyInstance, ctx: AppContext, helm: HelmService): Promise<void> {
  // Bodies stay unread streams: a PUT streams into the deploy, an upload is read within its limit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    url: `${HELM_PREFIX}*`,
    config: { access: (request: FastifyRequest) => needOf(ctx, helm, request) },
    handler: (request, reply) => handle(ctx, helm, request, reply),
  });
}
