/**
 * Property-based tests of request names over HTTP (issue 12, "How it is checked"): the real
 * app, in this process, on every database dialect, is sent generated names in the URLs of the
 * generic and Maven artifact routes, npm, PyPI and OCI, the storage API, the searches and the
 * repository and group APIs, as admin and as anonymous (who may read, write and annotate).
 *
 * - Never a 5xx: no generated request answers with a status of 500 or more.
 * - Never a path outside the store: after the runs, every stored item path is well-formed and
 *   inside its repository, every stored property fits the database, and no file named after a
 *   request appeared anywhere in the node's home or in /tmp.
 *
 * Requests go through `app.inject()` (which normalises the URL as WHATWG URL parsing does, as
 * most clients would) or, verbatim, over a socket to the same app (so `..`, `%2e%2e` and
 * backslashes reach the server as written); fast-check picks one per request.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRASH_REPO_KEY } from '../../src/core/repo-config.js';
import { fullPathOf } from '../../src/db/items.js';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_AUTH, startTestNode, type TestNode } from '../helpers/node-context.js';
import { raw } from '../helpers/raw-http.js';
import { storedZip } from '../helpers/stored-zip.js';
import {
  distributionFilename,
  mavenLayoutPath,
  npmName,
  ociDigest,
  ociName,
  ociReference,
  pep440,
  propertyKey,
  propertyString,
  propertyValue,
  prototypeName,
  pypiProject,
  semver,
  wheelName,
  wheelParts,
} from './format-arbitraries.js';
import { assertInside, encodeText, evilString, longString, nameish, storagePathProblem, wellFormed } from './name-arbitraries.js';

/** Runs per property and dialect; ARCA_PROPERTY_RUNS scales them (e.g. 10 for a long soak). */
const SCALE = Number(process.env.ARCA_PROPERTY_RUNS ?? 1) || 1;
/** `examples` run first, every time: well-formed requests, so each kind of repository stores something. */
const runs = (n: number, examples: unknown[][] = []) => ({
  numRuns: Math.max(1, Math.round(n * SCALE)),
  examples: examples as never[],
  // A failure's shrinking ends in time for its counterexample to be reported within the test's limit.
  interruptAfterTimeLimit: SCALE > 1 ? undefined : 45_000,
});

/** The admin, through inject(): how the examples are sent. */
const ADMIN = { auth: ADMIN_AUTH as string | undefined, verbatim: false, forwarded: undefined as Record<string, string> | undefined };

const LOCALS = { generic: 'generic-local', maven: 'maven-local', npm: 'npm-local', pypi: 'pypi-local', docker: 'docker-local' } as const;
const REPOS = [...Object.values(LOCALS), 'generic-virtual', 'generic-remote'];
const SENTINEL = 'arca-sentinel';

interface Req {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The Authorization header; none for anonymous. */
  auth: string | undefined;
  /** Over a socket with the path as written, instead of inject() (which normalises it). */
  verbatim: boolean;
  forwarded?: Record<string, string>;
}

/**
 * Who sends a request: admin, anonymous, or credentials naming a generated user (Basic) or
 * carrying a generated token (Bearer); and how: through inject() or verbatim.
 */
const how = fc.record({
  auth: fc.oneof(
    { arbitrary: fc.constant(ADMIN_AUTH), weight: 4 },
    { arbitrary: fc.constant(undefined), weight: 3 },
    {
      arbitrary: fc
        .tuple(fc.oneof(nameish(), evilString), evilString)
        .filter(([u]) => u !== 'admin' && u !== 'anonymous')
        .map(([u, p]) => `Basic ${Buffer.from(`${wellFormed(u)}:${wellFormed(p)}`).toString('base64')}`),
      weight: 1,
    },
    { arbitrary: evilString.map((t) => `Bearer ${encodeText(t)}`), weight: 1 },
  ),
  verbatim: fc.boolean(),
  /** The host and scheme a proxy in front claims, from which absolute URLs and challenges are built. */
  forwarded: fc.option(
    fc.record({ 'x-forwarded-host': fc.oneof(nameish(), evilString), 'x-forwarded-proto': fc.oneof(fc.constantFrom('https', 'http'), evilString) }).map((h) => ({
      'x-forwarded-host': printable(h['x-forwarded-host']),
      'x-forwarded-proto': printable(h['x-forwarded-proto']),
    })),
    { nil: undefined, freq: 4 },
  ),
});

/** Text an HTTP header can carry (printable ASCII), for generated header values. */
const printable = (s: string) => wellFormed(s).replace(/[^\x20-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

/** A URL path segment as a client writes it: percent-encoded, or raw (then `?`, `#` and `..` mean what they mean). */
const urlSegment = (seg: fc.Arbitrary<string> = nameish()) => fc.tuple(seg, fc.boolean()).map(([s, enc]) => (enc ? encodeText(s) : s));
const urlPath = (seg?: fc.Arbitrary<string>, max = 6) => fc.array(urlSegment(seg), { maxLength: max }).map((s) => s.join('/'));
const encodeSegments = (path: string) => path.split('/').map(encodeText).join('/');

/** Matrix parameters as a deploy URL carries them (`;k=v`). */
const matrix = fc.option(
  fc.array(fc.tuple(fc.oneof(propertyKey, evilString), fc.oneof(propertyValue, evilString)), { minLength: 1, maxLength: 3 }).map((ps) =>
    ps.map(([k, v]) => `;${encodeText(k)}=${encodeText(v)}`).join(''),
  ),
  { nil: '' },
);

/** The path as sent verbatim: only what an HTTP request line can carry is encoded. */
function verbatimPath(url: string): string {
  return url.replace(/[^\x21-\x7e]+/g, (s) => encodeText(s));
}

/** A legacy-API upload (twine's multipart form) of `file` with `fields`. */
function uploadRequest(url: string, fields: [string, string][], file: { name: string; data: Buffer }) {
  const boundary = 'arcaPropertyBoundary';
  return { method: 'POST', url, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipart(boundary, fields, file) };
}

function multipart(boundary: string, fields: [string, string][], file?: { name: string; data: Buffer }): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${wellFormed(v)}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${wellFormed(file.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

/** A wheel whose METADATA names the project and version of its file name (so the upload gets as far as storing it). */
function wheelBytes(name: string, version: string, requiresPython: string | undefined): Buffer {
  const dist = `${name.replace(/[-_.]+/g, '_')}-${version}.dist-info`;
  let meta = `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
  if (requiresPython !== undefined) meta += `Requires-Python: ${requiresPython}\n`;
  return storedZip({ [`${dist}/METADATA`]: meta, [`${dist}/WHEEL`]: 'Wheel-Version: 1.0\nTag: py3-none-any\n', [`${dist}/RECORD`]: '' });
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    out.push(join(dir, e.name));
    if (e.isDirectory()) walk(join(dir, e.name), out);
  }
  return out;
}

describe.each(DIALECTS)('request names over HTTP on %s: never a 5xx, never a path outside the store', (dialect) => {
  let node: TestNode;
  let base: string;
  /** The upstream of generic-remote: any path is a small file, so fetched names get stored. */
  let upstream: Server;
  const seen = { requests: 0, created: 0, reported: false };

  async function send(r: Req): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { ...(r.auth === undefined ? {} : { authorization: r.auth }), ...(r.forwarded ?? {}), ...(r.headers ?? {}) };
    let out: { status: number; body: string };
    if (r.verbatim) {
      out = await raw(base, { method: r.method, path: verbatimPath(r.url), headers, body: r.body, anonymous: true }).then(
        (res) => ({ status: res.status, body: res.text() }),
        (err: { code?: string; rawPacket?: Buffer }) => {
          // Node's HTTP server answers a request line past its header limit with a 431 that carries
          // a body even to HEAD, which the client then cannot parse: read the status line instead.
          const line = /^HTTP\/1\.1 (\d{3}) /.exec(err.rawPacket?.toString('latin1') ?? '');
          if (r.method !== 'HEAD' || err.code !== 'HPE_INVALID_CONSTANT' || !line) throw err;
          return { status: Number(line[1]), body: '' };
        },
      );
    } else {
      const res = await node.app.inject({ method: r.method as 'GET', url: r.url, headers, payload: r.body });
      out = { status: res.statusCode, body: res.body };
    }
    seen.requests++;
    if (out.status === 201) seen.created++;
    if (out.status >= 500) {
      // Printed at once: shrinking a failure can outlast the test's time limit.
      if (!seen.reported) console.error(`[${dialect}] first 5xx: ${r.method} ${JSON.stringify(r.url.slice(0, 500))} → ${out.status} ${out.body.slice(0, 300)}`);
      seen.reported = true;
      throw new Error(`${r.method} ${JSON.stringify(r.url.slice(0, 300))} (${r.auth === ADMIN_AUTH ? 'admin' : (r.auth?.slice(0, 60) ?? 'anonymous')}, ${r.verbatim ? 'verbatim' : 'inject'}) answered ${out.status}: ${out.body.slice(0, 300)}`);
    }
    return out;
  }

  async function setup(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await node.request({ method: method as 'PUT', url, payload: body as string, headers });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  }

  const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    node = await startTestNode(dialect);
    await node.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
    const types = { generic: 'generic', maven: 'maven', npm: 'npm', pypi: 'pypi', docker: 'docker' } as const;
    for (const [t, key] of Object.entries(LOCALS)) await setup('PUT', `/artifactory/api/repositories/${key}`, { rclass: 'local', packageType: types[t as keyof typeof types] });
    upstream = createServer((req, res) => res.end(`upstream copy of ${req.url}`));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/files`;
    await setup('PUT', '/artifactory/api/repositories/generic-remote', { rclass: 'remote', packageType: 'generic', url: upstreamUrl });
    await setup('PUT', '/artifactory/api/repositories/generic-virtual', { rclass: 'virtual', packageType: 'generic', repositories: [LOCALS.generic], defaultDeploymentRepo: LOCALS.generic });
    await setup('PATCH', '/artifactory/api/system/configuration', 'security:\n  anonAccessEnabled: true\n', { 'content-type': 'application/yaml' });
    await setup('PUT', '/artifactory/api/v2/security/permissions/anonymous-writes', {
      name: 'anonymous-writes',
      repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: REPOS, actions: { users: { anonymous: ['read', 'write', 'annotate'] } } },
    });
    await setup('PUT', `/artifactory/api/npm/${LOCALS.npm}/known`, JSON.stringify(publishBody(packPackage({ name: 'known', version: '1.0.0' }))), { 'content-type': 'application/json' });
  });

  afterAll(async () => {
    await node?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  it('generic and Maven artifact routes', async () => {
    const repo = fc.oneof(
      { arbitrary: fc.constantFrom(LOCALS.generic, LOCALS.maven, 'generic-virtual', LOCALS.npm, 'generic-remote', 'generic-remote-cache'), weight: 8 },
      { arbitrary: urlSegment(), weight: 1 },
    );
    const path = fc.oneof(
      { arbitrary: urlPath(), weight: 3 },
      { arbitrary: mavenLayoutPath.map(encodeSegments), weight: 3 },
      { arbitrary: mavenLayoutPath, weight: 1 },
      { arbitrary: evilString, weight: 1 },
    );
    const method = fc.constantFrom('PUT', 'PUT', 'PUT', 'GET', 'HEAD', 'DELETE');
    const body = fc.constantFrom('x', 'a'.repeat(40), '<project/>');
    let fetched = 0;
    await fc.assert(
      fc.asyncProperty(repo, path, matrix, fc.boolean(), method, body, how, async (r, p, m, slash, verb, b, who) => {
        const res = await send({ method: verb, url: `/artifactory/${r}/${p}${m}${slash ? '/' : ''}`, body: verb === 'PUT' ? b : undefined, ...who });
        if (r === 'generic-remote' && verb === 'GET' && res.status === 200 && !slash) fetched++;
      }),
      runs(200, [
        [LOCALS.generic, 'example/file.txt', ';build.name=x', false, 'PUT', 'x', ADMIN],
        [LOCALS.maven, 'org/example/lib/1.0/lib-1.0.jar', '', false, 'PUT', 'x', ADMIN],
        ['generic-remote', 'example/fetched.txt', '', false, 'GET', 'x', ADMIN],
      ]),
    );
    // The remote fetched and stored files under generated names.
    expect(fetched).toBeGreaterThan(0);
  });

  it('npm registry routes: package paths, publishes with generated names, versions and dist-tags', async () => {
    const api = `/artifactory/api/npm/${LOCALS.npm}`;
    const escape = (name: string) => (name.startsWith('@') ? `@${encodeText(name.slice(1))}` : encodeText(name));
    const request = fc.oneof(
      fc.tuple(fc.constantFrom('GET', 'HEAD', 'DELETE', 'PUT'), fc.oneof(urlPath(nameish(/^[@a-z0-9._-]{1,20}$/)), evilString.map(encodeText), evilString)).map(([m, p]) => ({
        method: m,
        url: `${api}/${p}`,
        body: m === 'PUT' ? '{}' : undefined,
      })),
      fc.tuple(npmName, semver, fc.oneof(fc.constant('latest'), evilString)).map(([name, version, tag]) => ({
        method: 'PUT',
        url: `${api}/${escape(name)}`,
        body: JSON.stringify(publishBody(packPackage({ name, version }), { tag })),
      })),
      fc.tuple(fc.oneof(fc.constant('known'), npmName), fc.oneof(fc.constant('next'), evilString)).map(([name, tag]) => ({
        method: 'POST',
        url: `${api}/-/package/${escape(name)}/dist-tags`,
        body: JSON.stringify({ [tag]: '1.0.0' }),
      })),
      fc.tuple(fc.constantFrom('PUT', 'DELETE', 'GET'), fc.oneof(prototypeName, propertyKey, evilString), fc.oneof(fc.constant('1.0.0'), prototypeName)).map(([m, tag, v]) => ({
        method: m,
        url: `${api}/-/package/known/dist-tags/${encodeText(tag)}`,
        body: m === 'PUT' ? JSON.stringify(v) : undefined,
      })),
      // Versions and tags of an existing package named by the request: `constructor`, `__proto__`…
      fc.oneof(prototypeName, semver, evilString).map((spec) => ({ method: 'GET', url: `${api}/known/${encodeText(spec)}` })),
      fc.tuple(fc.oneof(prototypeName, semver), evilString).map(([v, why]) => ({
        method: 'PUT',
        url: `${api}/known`,
        body: JSON.stringify({ name: 'known', versions: { [v]: { deprecated: why } } }),
      })),
    );
    await fc.assert(
      fc.asyncProperty(request, how, async (r, who) => {
        await send({ ...r, headers: { 'content-type': 'application/json' }, ...who });
      }),
      runs(150, [
        [{ method: 'PUT', url: `${api}/example-pkg`, body: JSON.stringify(publishBody(packPackage({ name: 'example-pkg', version: '1.0.0' }))) }, ADMIN],
        [{ method: 'PUT', url: `${api}/@example%2fscoped`, body: JSON.stringify(publishBody(packPackage({ name: '@example/scoped', version: '2.0.0-rc.1' }))) }, ADMIN],
      ]),
    );
  });

  it('PyPI routes: simple pages, package files and uploads with generated file names and fields', async () => {
    const api = `/artifactory/api/pypi/${LOCALS.pypi}`;
    const reads = fc
      .tuple(fc.constantFrom('simple/', 'packages/'), fc.oneof(urlPath(), evilString), fc.boolean())
      .map(([area, p, slash]) => ({ method: 'GET', url: `${api}/${area}${p}${slash ? '/' : ''}` }));
    const requiresPython = fc.option(fc.oneof(fc.constant('>=3.8'), evilString, longString), { nil: undefined });
    const upload = fc
      .tuple(
        fc.oneof(
          fc.tuple(wheelParts, requiresPython).map(([parts, rp]) => ({ name: wheelName(parts), data: wheelBytes(parts[0], parts[1], rp), project: parts[0], version: parts[1] })),
          fc.tuple(pypiProject, pep440, fc.constantFrom('.tar.gz', '.zip')).map(([project, version, ext]) => ({
            name: `${project}-${version}${ext}`,
            data: ext === '.zip' ? storedZip({ [`${project}-${version}/PKG-INFO`]: 'Metadata-Version: 2.1\n' }) : Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]),
            project: project as string | undefined,
            version: version as string | undefined,
          })),
          distributionFilename.map((name) => ({ name, data: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), project: undefined, version: undefined })),
        ),
        // The name and version fields: absent, the file's own, or generated.
        fc.oneof({ arbitrary: fc.constantFrom<string | undefined>(undefined, 'same', 'same'), weight: 3 }, { arbitrary: pypiProject, weight: 1 }),
        fc.oneof({ arbitrary: fc.constantFrom<string | undefined>(undefined, 'same', 'same'), weight: 3 }, { arbitrary: pep440, weight: 1 }),
        requiresPython,
        fc.option(fc.oneof(evilString, longString), { nil: undefined }),
      )
      .map(([file, name, version, rp, summary]) => {
        const fields: [string, string][] = [[':action', 'file_upload'], ['protocol_version', '1']];
        const n = name === 'same' ? file.project : name;
        const v = version === 'same' ? file.version : version;
        if (n !== undefined) fields.push(['name', n]);
        if (v !== undefined) fields.push(['version', v]);
        if (rp !== undefined) fields.push(['requires_python', rp]);
        if (summary !== undefined) fields.push(['summary', summary]);
        return uploadRequest(api, fields, file);
      });
    const form = (name: string, version: string): [string, string][] => [[':action', 'file_upload'], ['protocol_version', '1'], ['name', name], ['version', version]];
    await fc.assert(
      fc.asyncProperty(fc.oneof(reads, upload), how, async (r, who) => {
        await send({ ...r, ...who });
      }),
      runs(150, [
        [uploadRequest(api, form('Example.Wheel', '1.0'), { name: 'Example.Wheel-1.0-py3-none-any.whl', data: wheelBytes('Example.Wheel', '1.0', '>=3.8') }), ADMIN],
        [uploadRequest(api, form('example-sdist', '2.0rc1'), { name: 'example-sdist-2.0rc1.tar.gz', data: Buffer.from([0x1f, 0x8b, 8, 0]) }), ADMIN],
      ]),
    );
  });

  it('OCI routes: pushes, pulls and deletes with generated names, references and digests', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const configDigest = `sha256:${sha256(config)}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: configDigest, size: config.length }],
    });
    const prefix = fc.constantFrom(`/v2/${LOCALS.docker}/`, `/artifactory/api/docker/${LOCALS.docker}/v2/`, '/v2/');
    const op = fc.constantFrom('push', 'push', 'manifest', 'blob', 'upload', 'tags', 'referrers');
    const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'POST');
    await fc.assert(
      fc.asyncProperty(prefix, fc.oneof(ociName, ociName.map(encodeSegments)), op, ociReference, ociDigest, method, how, async (pre, name, o, ref, digest, verb, who) => {
        const at = `${pre}${name}`;
        if (o === 'push') {
          const up = await send({ method: 'POST', url: `${at}/blobs/uploads/?digest=${encodeText(configDigest)}`, body: config, ...who });
          if (up.status !== 201) return;
          await send({ method: 'PUT', url: `${at}/manifests/${encodeText(ref)}`, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest, ...who });
          return;
        }
        const tail = { manifest: `manifests/${encodeText(ref)}`, blob: `blobs/${encodeText(digest)}`, upload: `blobs/uploads/${encodeText(ref)}`, tags: `tags/list?n=${encodeText(ref)}`, referrers: `referrers/${encodeText(digest)}` }[o];
        await send({ method: verb, url: `${at}/${tail}`, body: verb === 'PUT' || verb === 'PATCH' ? manifest : undefined, ...who });
      }),
      runs(150, [[`/v2/${LOCALS.docker}/`, 'example/app', 'push', 'v1', configDigest, 'GET', ADMIN]]),
    );
  });

  it('storage API: item info, lists and properties on generated paths and property strings', async () => {
    const query = fc.oneof(
      propertyString.map((p) => `properties=${p}`),
      propertyString.map((p) => `properties=${encodeText(p)}`),
      fc.tuple(evilString, evilString).map(([d, r]) => `list&deep=1&depth=${encodeText(d)}&recursive=${encodeText(r)}`),
      fc.constantFrom('properties', 'lastModified', 'permissions', 'list', 'properties=__proto__', 'properties=__proto__=x'),
      evilString,
    );
    const repo = fc.oneof({ arbitrary: fc.constantFrom(...REPOS), weight: 6 }, { arbitrary: urlSegment(), weight: 1 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'PUT', 'DELETE'), repo, fc.oneof(urlPath(), fc.constant('')), query, how, async (m, r, p, q, who) => {
        await send({ method: m, url: `/artifactory/api/storage/${r}/${p}?${q}`, ...who });
      }),
      runs(150),
    );
  });

  it('searches, repository keys, group and permission target names, UI paths', async () => {
    const request = fc.oneof(
      fc.tuple(evilString, evilString).map(([n, r]) => ({ method: 'GET', url: `/artifactory/api/search/artifact?name=${encodeText(n)}&repos=${encodeText(r)}` })),
      fc.tuple(fc.oneof(propertyKey, evilString), fc.oneof(propertyValue, evilString)).map(([k, v]) => ({ method: 'GET', url: `/artifactory/api/search/prop?${encodeText(k)}=${encodeText(v)}` })),
      evilString.map((s) => ({ method: 'GET', url: `/artifactory/api/search/checksum?sha1=${encodeText(s)}&sha256=${encodeText(s)}` })),
      fc.tuple(fc.constantFrom('PUT', 'GET', 'DELETE'), nameish(/^[A-Za-z0-9._-]{1,70}$/), fc.constantFrom('generic', 'maven', 'npm', 'pypi', 'docker', 'bogus')).map(([m, key, type]) => ({
        method: m,
        url: `/artifactory/api/repositories/${encodeText(key)}`,
        body: m === 'PUT' ? JSON.stringify({ rclass: 'local', packageType: type }) : undefined,
      })),
      fc.tuple(fc.constantFrom('PUT', 'GET', 'DELETE'), nameish(/^[^/]{1,70}$/)).map(([m, name]) => ({
        method: m,
        url: `/artifactory/api/security/groups/${encodeText(name)}`,
        body: m === 'PUT' ? '{}' : undefined,
      })),
      fc.tuple(fc.constantFrom('PUT', 'GET', 'DELETE'), fc.oneof(nameish(/^[^/]{1,260}$/), prototypeName), fc.oneof(prototypeName, nameish())).map(([m, name, who]) => ({
        method: m,
        url: `/artifactory/api/v2/security/permissions/${encodeText(name)}`,
        body:
          m === 'PUT'
            ? JSON.stringify({ name: wellFormed(name), repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: [LOCALS.generic], actions: { users: { [who]: ['read'] }, groups: {} } } })
            : undefined,
      })),
      fc.oneof(urlPath(), evilString).map((p) => ({ method: 'GET', url: `/ui/${p}` })),
    );
    await fc.assert(
      fc.asyncProperty(request, how, async (r, who) => {
        await send({ ...r, headers: { 'content-type': 'application/json' }, ...who });
      }),
      runs(120),
    );
  });

  describe('regressions: counterexamples the properties found', () => {
    const generic = `/artifactory/${LOCALS.generic}/regress`;

    it('__proto__ as a matrix parameter or a storage-API property is a key like any other (was a 500)', async () => {
      expect((await node.request({ method: 'PUT', url: `${generic}/proto.txt;__proto__=x`, payload: 'x' })).statusCode).toBe(201);
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/storage/${LOCALS.generic}/regress/proto.txt?properties=__proto__=y;constructor=z` })).statusCode).toBe(204);
      const got = await node.request({ method: 'GET', url: `/artifactory/api/storage/${LOCALS.generic}/regress/proto.txt?properties` });
      expect(got.statusCode).toBe(200);
      expect(got.json().properties).toEqual(JSON.parse('{"__proto__":["y"],"constructor":["z"]}'));
    });

    it('a matrix parameter the store cannot hold is a 400 and stores nothing (was a 500 on PostgreSQL and MySQL)', async () => {
      for (const [i, m] of [`;${'k'.repeat(300)}=v`, ';k%01=v', ';a%20b=v'].entries()) {
        const res = await node.request({ method: 'PUT', url: `${generic}/matrix-${i}.txt${m}`, payload: 'x' });
        expect(res.statusCode, m.slice(0, 20)).toBe(400);
        expect((await node.request({ method: 'GET', url: `${generic}/matrix-${i}.txt` })).statusCode).toBe(404);
      }
    });

    it('npm dist-tags that are lone surrogates are a 400 (was a 500)', async () => {
      const api = `/artifactory/api/npm/${LOCALS.npm}`;
      const json = { 'content-type': 'application/json' };
      const own = JSON.stringify(publishBody(packPackage({ name: 'tagged', version: '1.0.0' })));
      expect((await node.request({ method: 'PUT', url: `${api}/tagged`, headers: json, payload: own })).statusCode).toBe(201);
      expect((await node.request({ method: 'POST', url: `${api}/-/package/tagged/dist-tags`, headers: json, payload: '{"\\udfff":"1.0.0"}' })).statusCode).toBe(400);
      const body = JSON.stringify(publishBody(packPackage({ name: 'surrogate', version: '1.0.0' }), { tag: '\ud800' }));
      expect((await node.request({ method: 'PUT', url: `${api}/surrogate`, headers: json, payload: body })).statusCode).toBe(400);
    });

    it('npm: versions and dist-tags named after the members of Object.prototype are not found, never a 500 or a polluted prototype', async () => {
      const api = `/artifactory/api/npm/${LOCALS.npm}`;
      const json = { 'content-type': 'application/json' };
      const own = JSON.stringify(publishBody(packPackage({ name: 'proto-named', version: '1.0.0' })));
      expect((await node.request({ method: 'PUT', url: `${api}/proto-named`, headers: json, payload: own })).statusCode).toBe(201);
      for (const spec of ['constructor', 'toString', '__proto__']) {
        expect((await node.request({ method: 'GET', url: `${api}/proto-named/${spec}` })).statusCode, spec).toBe(404);
      }
      const deprecate = await node.request({ method: 'PUT', url: `${api}/proto-named`, headers: json, payload: '{"versions":{"__proto__":{"deprecated":"polluted"}}}' });
      const polluted = (Object.prototype as Record<string, unknown>).deprecated;
      delete (Object.prototype as Record<string, unknown>).deprecated;
      expect(polluted).toBeUndefined();
      expect(deprecate.statusCode).toBe(400);
      expect((await node.request({ method: 'PUT', url: `${api}/-/package/proto-named/dist-tags/__proto__`, headers: json, payload: '"1.0.0"' })).statusCode).toBe(400);
    });

    it('a publish whose tarball file name exceeds 255 bytes is a 400 (was a 500 on PostgreSQL and MySQL)', async () => {
      const name = 'n'.repeat(200);
      const body = JSON.stringify(publishBody(packPackage({ name, version: `1.0.0-${'b'.repeat(60)}` })));
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/npm/${LOCALS.npm}/${name}`, headers: { 'content-type': 'application/json' }, payload: body });
      expect(res.statusCode).toBe(400);
      expect((await node.request({ method: 'GET', url: `/artifactory/api/npm/${LOCALS.npm}/${name}` })).statusCode).toBe(404);
    });

    it('PyPI: a wheel whose .metadata name exceeds 255 bytes, or a requires_python longer than a property holds, is a 400 and stores nothing', async () => {
      const upload = (file: string, data: Buffer, fields: [string, string][]) =>
        node.request({
          method: 'POST',
          url: `/artifactory/api/pypi/${LOCALS.pypi}`,
          headers: { 'content-type': 'multipart/form-data; boundary=b0undary' },
          payload: multipart('b0undary', [[':action', 'file_upload'], ['protocol_version', '1'], ...fields], { name: file, data }),
        });
      const project = 'p'.repeat(200);
      const version = `${'0.'.repeat(14)}0`;
      const long = await upload(`${project}-${version}-py3-none-any.whl`, wheelBytes(project, version, undefined), [['name', project], ['version', version]]);
      expect(long.statusCode).toBe(400);
      expect((await node.request({ method: 'GET', url: `/artifactory/api/pypi/${LOCALS.pypi}/simple/${project}/` })).statusCode).toBe(404);
      const rp = `>=${'1'.repeat(4100)}`;
      const big = await upload('rp-1.0-py3-none-any.whl', wheelBytes('rp', '1.0', rp), [['name', 'rp'], ['version', '1.0']]);
      expect(big.statusCode).toBe(400);
      expect((await node.request({ method: 'GET', url: `/artifactory/api/pypi/${LOCALS.pypi}/packages/rp/1.0/rp-1.0-py3-none-any.whl` })).statusCode).toBe(404);
    });

    it('a NUL in a search term or a user name is a 400 (was a 500 on PostgreSQL)', async () => {
      for (const url of ['/artifactory/api/search/artifact?name=%00', '/artifactory/api/search/prop?a=%00', '/artifactory/api/security/users/a%00b', '/artifactory/api/security/groups/a%00b']) {
        expect((await node.request({ method: 'GET', url })).statusCode, url).toBe(400);
      }
      const nulUser = await node.request({ method: 'GET', url: '/artifactory/api/repositories', headers: { authorization: `Basic ${Buffer.from('a\u0000b:pw').toString('base64')}` } });
      expect(nulUser.statusCode).toBeGreaterThanOrEqual(400);
      expect(nulUser.statusCode).toBeLessThan(500);
    });

    it('OCI: the 401 for a name with control characters, or behind a forwarded host that is no host, is a 401 (was a 500)', async () => {
      const badCredentials = { authorization: 'Basic Og==' };
      const ctl = await node.request({ method: 'POST', url: `/v2/${LOCALS.docker}/%00/blobs/uploads/`, headers: badCredentials });
      expect(ctl.statusCode).toBe(401);
      const fwd = await node.request({ method: 'GET', url: `/v2/${LOCALS.docker}/a/tags/list`, headers: { ...badCredentials, 'x-forwarded-host': '.0', 'x-forwarded-proto': '..' } });
      expect(fwd.statusCode).toBe(401);
      expect(String(fwd.headers['www-authenticate'])).toContain('realm="http://');
    });

    it('Maven: the metadata of an artifact under a group folder with dots is written beside it, inside the repository', async () => {
      for (const path of ['.x/a/1.0/a-1.0.jar', 'b./c/1.0/c-1.0.jar', 'org.example/lib/1.0/lib-1.0.jar']) {
        expect((await node.request({ method: 'PUT', url: `/artifactory/${LOCALS.maven}/${path}`, payload: 'jar' })).statusCode, path).toBe(201);
        const folder = path.split('/').slice(0, -2).join('/');
        expect((await node.request({ method: 'GET', url: `/artifactory/${LOCALS.maven}/${folder}/maven-metadata.xml` })).statusCode, folder).toBe(200);
      }
      const rows = await node.ctx.database.db.selectFrom('items').select(['path', 'name']).where('repo', '=', LOCALS.maven).execute();
      for (const row of rows) assertInside(fullPathOf(row), row);
    });
  });

  it('after all of it: every stored item is inside its repository, every property fits, no file outside the store', async () => {
    // The runs above did reach the store: they deployed things, not only refused them.
    expect(seen.created, `${seen.requests} requests`).toBeGreaterThan(20);
    const db = node.ctx.database.db;
    // The trash can (auto-trashcan) is a repository of its own, kept out of the configured ones.
    const repos = new Set([TRASH_REPO_KEY, ...(await db.selectFrom('repositories').select('repo_key').execute()).map((r) => r.repo_key)]);
    const items = await db.selectFrom('items').select(['repo', 'path', 'name', 'type']).execute();
    expect(items.length).toBeGreaterThan(20);
    // Every kind of repository stored something under a generated name (the runs reached the store everywhere).
    const perRepo = new Map<string, number>();
    for (const i of items) perRepo.set(i.repo, (perRepo.get(i.repo) ?? 0) + 1);
    console.log(`[${dialect}] ${seen.requests} requests, ${seen.created} created; items per repository: ${JSON.stringify(Object.fromEntries(perRepo))}`);
    // (generic-remote is left out: a generated DELETE of its root may have emptied its cache; the artifact test checks it fetched.)
    for (const key of [LOCALS.generic, LOCALS.maven, LOCALS.npm, LOCALS.pypi, LOCALS.docker]) expect(perRepo.get(key) ?? 0, key).toBeGreaterThan(0);
    const bad = items
      .map((row) => ({ row, problem: repos.has(row.repo) ? storagePathProblem(fullPathOf(row)) : 'unknown repository' }))
      .filter((x) => x.problem !== undefined);
    expect(bad.slice(0, 5).map((b) => `${b.row.repo}:${JSON.stringify(fullPathOf(b.row))} ${b.problem}`)).toEqual([]);
    for (const row of items) assertInside(fullPathOf(row), row);

    const props = await db.selectFrom('item_props').select(['prop_key', 'prop_value']).execute();
    for (const p of props) {
      expect(p.prop_key.length, p.prop_key.slice(0, 50)).toBeLessThanOrEqual(255);
      expect(p.prop_key).not.toMatch(/^$|[\s\u0000-\u001f\u007f=;,]/);
      expect(p.prop_value.length).toBeLessThanOrEqual(4000);
    }

    // No request reached Object's prototype (a version named `__proto__` in a deprecate PUT did).
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);

    const named = walk(node.home).filter((f) => f.includes(SENTINEL));
    expect(named).toEqual([]);
    expect(readdirSync('/tmp').filter((f) => f.includes(SENTINEL))).toEqual([]);
  });
});
