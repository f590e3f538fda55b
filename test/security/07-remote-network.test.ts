/**
 * Issue 12, item 7: remote repositories cannot be turned against the network.
 *
 * Two real `arca start` processes:
 * - `plain` runs with the built-in deny list (link-local and cloud-metadata addresses): remotes
 *   to such URLs are refused when saved (400 naming the field), a redirect to one is refused,
 *   credentials in a URL are refused, the repository API never shows a remote's password
 *   (and its username only to administrators), errors never quote an upstream's body, and a
 *   caller who may not read a repository gets the answer of a repository that does not exist;
 * - `strict` also denies 127.0.0.1, where a stand-in for a metadata service listens, so every
 *   attempt to reach it is counted: a host name that resolves to it (`localhost`), a redirect
 *   hop to it (by address or by name), and an OCI token realm naming it, for every remote kind
 *   (generic, maven, npm, pypi, docker). The hostile upstream itself listens on 127.0.0.3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, basic } from '../helpers/credentials.js';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const SECRET = 'metadata-secret-token';
const BODY_MARK = 'UPSTREAM-BODY-MUST-NOT-LEAK';
const READER = basic('reader', 'Reader-Passw0rd!');
const NOBODY = basic('nobody', 'Nobody-Passw0rd!');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

async function call(node: NodeProcess, method: string, path: string, opts: { auth?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const auth = opts.auth ?? ADMIN_AUTH;
  if (auth) headers.authorization = auth;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${node.url}${path}`, { method, headers, body, redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const repoApi = (key: string) => `/artifactory/api/repositories/${key}`;

describe('07 remote repositories cannot be turned against the network', () => {
  let plain: NodeProcess;
  let strict: NodeProcess;
  /** Stands in for a cloud metadata service: 127.0.0.1, denied on `strict`. Nothing may reach it. */
  let meta: FakeUpstream;
  /** The hostile upstream of `strict` (127.0.0.3, allowed). */
  let hostile: FakeUpstream;
  /** An upstream of `plain` on 127.0.0.1 (loopback is allowed by default). */
  let up: FakeUpstream;
  let metaPort: string;

  beforeAll(async () => {
    meta = await new FakeUpstream().start('127.0.0.1');
    metaPort = new URL(meta.url).port;
    for (const p of ['/secret', '/token', '/latest/meta-data/']) meta.on(p, { status: 200, body: SECRET });
    meta.on('/token', { status: 200, body: JSON.stringify({ token: SECRET }), headers: { 'content-type': 'application/json' } });
    hostile = await new FakeUpstream().start('127.0.0.3');
    up = await new FakeUpstream().start('127.0.0.1');
    [plain, strict] = await Promise.all([
      startNodeProcess({ workers: 1 }),
      startNodeProcess({ workers: 1, env: { ARCA_REMOTE_DENIEDADDRESSES: '169.254.0.0/16, fe80::/10, fd00:ec2::254, metadata.google.internal, 127.0.0.1/32' } }),
    ]);
    for (const node of [plain, strict]) {
      for (const [name, pw] of [
        ['reader', 'Reader-Passw0rd!'],
        ['nobody', 'Nobody-Passw0rd!'],
      ]) {
        const res = await call(node, 'PUT', `/artifactory/api/security/users/${name}`, { body: { email: `${name}@example.com`, password: pw } });
        expect(res.status, res.body).toBe(201);
      }
      const target = { name: 'reader-remotes', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['ANY REMOTE'], actions: { users: { reader: ['read'] } } } };
      const res = await call(node, 'PUT', '/artifactory/api/v2/security/permissions/reader-remotes', { body: target });
      expect([200, 201], res.body).toContain(res.status);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([plain?.cleanup(), strict?.cleanup()]);
    await Promise.all([meta?.stop(), hostile?.stop(), up?.stop()]);
  });

  const remote = (node: NodeProcess, key: string, config: Record<string, unknown>) => call(node, 'PUT', repoApi(key), { body: { rclass: 'remote', socketTimeoutMillis: 5000, ...config } });

  it('refuses link-local and metadata URLs when a remote is saved or updated, naming the field; loopback stays allowed', async () => {
    const denied = [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.170.2/v2/credentials',
      'http://[fe80::1]/',
      'http://[fd00:ec2::254]/latest/',
      'http://[::ffff:169.254.169.254]/',
      'http://2852039166/',
      'http://0xA9FEA9FE/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.GOOGLE.INTERNAL./',
      'https://metadata.azure.internal/metadata/instance',
    ];
    const types = ['generic', 'maven', 'npm', 'pypi', 'docker'];
    for (const [i, url] of denied.entries()) {
      const key = `bad-${i}`;
      const res = await remote(plain, key, { packageType: types[i % types.length], url });
      expect(res.status, `${url}: ${res.body}`).toBe(400);
      expect(JSON.parse(res.body).errors[0].message, url).toContain("'url'");
      expect((await call(plain, 'GET', repoApi(key))).status).toBe(404);
    }
    const pypi = await remote(plain, 'bad-pypi-index', { packageType: 'pypi', url: up.url, pyPIRegistryUrl: 'http://169.254.169.254/simple' });
    expect(pypi.status).toBe(400);
    expect(JSON.parse(pypi.body).errors[0].message).toContain("'pyPIRegistryUrl'");

    expect((await remote(plain, 'loop-ip', { packageType: 'generic', url: `${up.url}/files` })).status).toBe(200);
    expect((await remote(plain, 'loop-name', { packageType: 'generic', url: `http://localhost:${new URL(up.url).port}/files` })).status).toBe(200);
    const update = await call(plain, 'POST', repoApi('loop-ip'), { body: { url: 'http://169.254.169.254/' } });
    expect(update.status).toBe(400);
    expect(JSON.parse(update.body).errors[0].message).toContain("'url'");
    expect(JSON.parse((await call(plain, 'GET', repoApi('loop-ip'))).body).url).toBe(`${up.url}/files`);
  });

  it('refuses credentials embedded in a remote URL, naming the username and password fields', async () => {
    for (const url of [`http://someone:url-S3cret@127.0.0.1:${new URL(up.url).port}/`, `http://someone@127.0.0.1:${new URL(up.url).port}/`]) {
      const res = await remote(plain, 'creds-in-url', { packageType: 'generic', url });
      expect(res.status, res.body).toBe(400);
      const message = JSON.parse(res.body).errors[0].message as string;
      expect(message).toContain("'username'");
      expect(message).toContain("'password'");
      expect(res.body).not.toContain('url-S3cret');
      expect((await call(plain, 'GET', repoApi('creds-in-url'))).status).toBe(404);
    }
  });

  it('refuses a redirect to a metadata address, for every remote kind', async () => {
    const target = 'http://169.254.169.254/latest/meta-data/';
    up.on('/hop/gen/a.bin', { status: 302, headers: { location: target } });
    up.on('/hop/mvn/org/x/1/x-1.jar', { status: 301, headers: { location: target } });
    up.on('/hop/npm/left-pad', { status: 307, headers: { location: target } });
    up.on('/hop/pypi/simple/evil/', { status: 302, headers: { location: target } });
    up.on('/hop/v2/img/manifests/latest', { status: 302, headers: { location: target } });
    const cases: [string, Record<string, unknown>, string][] = [
      ['hop-gen', { packageType: 'generic', url: `${up.url}/hop/gen` }, '/artifactory/hop-gen/a.bin'],
      ['hop-mvn', { packageType: 'maven', url: `${up.url}/hop/mvn` }, '/artifactory/hop-mvn/org/x/1/x-1.jar'],
      ['hop-npm', { packageType: 'npm', url: `${up.url}/hop/npm` }, '/artifactory/api/npm/hop-npm/left-pad'],
      ['hop-pypi', { packageType: 'pypi', url: `${up.url}/hop/pypi` }, '/artifactory/api/pypi/hop-pypi/simple/evil/'],
      ['hop-docker', { packageType: 'docker', url: `${up.url}/hop` }, '/v2/hop-docker/img/manifests/latest'],
    ];
    for (const [key, config, path] of cases) {
      expect((await remote(plain, key, config)).status).toBe(200);
      const started = Date.now();
      const res = await call(plain, 'GET', path, { auth: READER, headers: { accept: `${OCI_MANIFEST}, application/json, text/html` } });
      expect(res.status, `${key}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain(SECRET);
      // Refused before any connection: no wait for an address that does not answer.
      expect(Date.now() - started, key).toBeLessThan(4000);
      if (key === 'hop-gen') expect(res.body).toContain('deny list');
    }
    // A redirect to an allowed place is still followed.
    up.on('/hop/gen/moved.bin', { status: 302, headers: { location: '/hop/gen/real.bin' } });
    up.on('/hop/gen/real.bin', { status: 200, body: 'real content' });
    expect((await call(plain, 'GET', '/artifactory/hop-gen/moved.bin')).body).toBe('real content');
  });

  it('checks the addresses a name resolves to, every redirect hop and the OCI token realm, so a denied service is never reached', async () => {
    const byName = `http://localhost:${metaPort}`;
    const byAddress = `http://127.0.0.1:${metaPort}`;
    hostile.on('/r/gen/by-address.bin', { status: 302, headers: { location: `${byAddress}/secret` } });
    hostile.on('/r/gen/by-name.bin', { status: 302, headers: { location: `${byName}/secret` } });
    hostile.on('/r/gen/chain.bin', { status: 301, headers: { location: '/r/gen/chain2.bin' } });
    hostile.on('/r/gen/chain2.bin', { status: 308, headers: { location: `${byName}/secret` } });
    hostile.on('/r/mvn/org/x/1/x-1.jar', { status: 302, headers: { location: `${byAddress}/secret` } });
    hostile.on('/r/npm/left-pad', { status: 302, headers: { location: `${byName}/secret` } });
    hostile.on('/r/pypi/simple/evil/', { status: 302, headers: { location: `${byName}/secret` } });
    hostile.on('/v2/img/manifests/latest', { status: 302, headers: { location: `${byAddress}/secret` } });
    // A registry that sends its clients to a "token service" at the metadata address.
    hostile.on('/v2/tok/manifests/latest', {
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="${byAddress}/token",service="registry",scope="repository:tok:pull"` },
      body: '{"errors":[{"code":"UNAUTHORIZED"}]}',
    });
    hostile.on('/v2/tokname/manifests/latest', {
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="${byName}/token",service="registry"` },
    });
    const repos: [string, Record<string, unknown>][] = [
      // The URL names a host that is not denied as a name; it resolves to a denied address.
      ['name-gen', { packageType: 'generic', url: `${byName}/files` }],
      ['name-npm', { packageType: 'npm', url: byName }],
      ['name-pypi', { packageType: 'pypi', url: byName }],
      ['name-docker', { packageType: 'docker', url: byName }],
      ['hop-gen', { packageType: 'generic', url: `${hostile.url}/r/gen` }],
      ['hop-mvn', { packageType: 'maven', url: `${hostile.url}/r/mvn` }],
      ['hop-npm', { packageType: 'npm', url: `${hostile.url}/r/npm` }],
      ['hop-pypi', { packageType: 'pypi', url: `${hostile.url}/r/pypi` }],
      ['hop-docker', { packageType: 'docker', url: hostile.url, username: 'remote-user', password: 'remote-Passw0rd' }],
    ];
    for (const [key, config] of repos) {
      const res = await remote(strict, key, config);
      expect(res.status, `${key}: ${res.body}`).toBe(200);
    }
    const requests = [
      '/artifactory/name-gen/secret',
      '/artifactory/api/npm/name-npm/secret',
      '/artifactory/api/pypi/name-pypi/simple/secret/',
      '/v2/name-docker/secret/manifests/latest',
      '/artifactory/hop-gen/by-address.bin',
      '/artifactory/hop-gen/by-name.bin',
      '/artifactory/hop-gen/chain.bin',
      '/artifactory/hop-mvn/org/x/1/x-1.jar',
      '/artifactory/api/npm/hop-npm/left-pad',
      '/artifactory/api/pypi/hop-pypi/simple/evil/',
      '/v2/hop-docker/img/manifests/latest',
      '/v2/hop-docker/tok/manifests/latest',
      '/v2/hop-docker/tokname/manifests/latest',
    ];
    for (const path of requests) {
      const res = await call(strict, 'GET', path, { headers: { accept: `${OCI_MANIFEST}, application/json, text/html` } });
      expect(res.status, `${path}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.body, path).not.toContain(SECRET);
    }
    expect(meta.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // The hostile upstream was asked (the chain and the token challenge were seen), the metadata stand-in never.
    expect(hostile.count('/r/gen/chain2.bin')).toBeGreaterThan(0);
    expect(hostile.count('/v2/tok/manifests/latest')).toBeGreaterThan(0);
    // The literal address is refused when saved, as on every node.
    const literal = await remote(strict, 'literal', { packageType: 'generic', url: `${byAddress}/files` });
    expect(literal.status).toBe(400);
    expect(literal.body).toContain("'url'");
  });

  it('never quotes the upstream body in the errors callers see', async () => {
    const fail = { status: 500, body: `<html>${BODY_MARK} stack trace, internal host names</html>`, headers: { 'content-type': 'text/html' } };
    up.on('/leak/gen/x.bin', fail);
    up.on('/leak/gen/denied.bin', { status: 403, body: BODY_MARK });
    up.on('/leak/npm/left-pad', fail);
    up.on('/leak/npm/other', { status: 200, body: JSON.stringify({ name: `${BODY_MARK}-pkg`, versions: {} }), headers: { 'content-type': 'application/json' } });
    up.on('/leak/pypi/simple/demo/', { status: 200, body: `{"files": [${BODY_MARK}`, headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } });
    up.on('/leak/v2/img/manifests/latest', fail);
    up.on('/leak/v2/junk/manifests/latest', { status: 200, body: `{"schemaVersion": 2, "mediaType": "${BODY_MARK}"}`, headers: { 'content-type': OCI_MANIFEST } });
    const repos: [string, Record<string, unknown>][] = [
      ['leak-gen', { packageType: 'generic', url: `${up.url}/leak/gen` }],
      ['leak-npm', { packageType: 'npm', url: `${up.url}/leak/npm` }],
      ['leak-pypi', { packageType: 'pypi', url: `${up.url}/leak/pypi` }],
      ['leak-docker', { packageType: 'docker', url: `${up.url}/leak` }],
    ];
    for (const [key, config] of repos) expect((await remote(plain, key, { ...config, assumedOfflinePeriodSecs: 0 })).status).toBe(200);
    const paths = [
      '/artifactory/leak-gen/x.bin',
      '/artifactory/leak-gen/denied.bin',
      '/artifactory/api/npm/leak-npm/left-pad',
      '/artifactory/api/npm/leak-npm/other',
      '/artifactory/api/pypi/leak-pypi/simple/demo/',
      '/v2/leak-docker/img/manifests/latest',
      '/v2/leak-docker/junk/manifests/latest',
    ];
    for (const path of paths) {
      const res = await call(plain, 'GET', path, { auth: READER, headers: { accept: `${OCI_MANIFEST}, application/json` } });
      expect(res.status, `${path}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.body, path).not.toContain(BODY_MARK);
      expect([...res.headers.values()].join(' '), path).not.toContain(BODY_MARK);
    }
  });

  it('never returns a remote password through the repository API, and the username only to administrators', async () => {
    const created = await remote(plain, 'with-creds', { packageType: 'generic', url: `${up.url}/files`, username: 'remote-user', password: 'remote-Passw0rd' });
    expect(created.status).toBe(200);
    const asAdmin = await call(plain, 'GET', repoApi('with-creds'));
    expect(asAdmin.status).toBe(200);
    const adminView = JSON.parse(asAdmin.body) as Record<string, unknown>;
    expect(adminView.username).toBe('remote-user');
    expect('password' in adminView).toBe(false);
    expect(asAdmin.body).not.toContain('remote-Passw0rd');
    expect(asAdmin.body).not.toMatch(/ENC\(|AEP1|\{aes/i);
    const asReader = await call(plain, 'GET', repoApi('with-creds'), { auth: READER });
    expect(asReader.status).toBe(200);
    const readerView = JSON.parse(asReader.body) as Record<string, unknown>;
    expect(readerView.url).toBe(`${up.url}/files`);
    expect('username' in readerView || 'password' in readerView).toBe(false);
    expect(asReader.body).not.toContain('remote-user');
    for (const list of ['/artifactory/api/repositories', '/artifactory/api/repositories?type=remote']) {
      const res = await call(plain, 'GET', list, { auth: READER });
      expect(res.body).not.toContain('remote-Passw0rd');
      expect(res.body).not.toContain('remote-user');
    }
    // An update without a password keeps the stored one (it is write-only).
    expect((await call(plain, 'POST', repoApi('with-creds'), { body: { description: 'kept' } })).status).toBe(200);
    up.on('/files/auth.bin', (req) => (req.headers.authorization === `Basic ${Buffer.from('remote-user:remote-Passw0rd').toString('base64')}` ? { status: 200, body: 'authorised' } : { status: 401 }));
    expect((await call(plain, 'GET', '/artifactory/with-creds/auth.bin')).body).toBe('authorised');
  });

  it('answers a caller who may not read a repository exactly as for one that does not exist', async () => {
    const hidden: [string, Record<string, unknown>][] = [
      ['gen-hidden', { rclass: 'local', packageType: 'generic' }],
      ['npm-hidden', { rclass: 'local', packageType: 'npm' }],
      ['pypi-hidden', { rclass: 'local', packageType: 'pypi' }],
      ['docker-hidden', { rclass: 'local', packageType: 'docker' }],
      ['virt-hidden', { rclass: 'virtual', packageType: 'generic', repositories: ['gen-hidden'] }],
    ];
    for (const [key, config] of hidden) expect((await call(plain, 'PUT', repoApi(key), { body: config })).status).toBe(200);
    expect((await call(plain, 'PUT', '/artifactory/gen-hidden/a/b.txt', { body: 'secret' })).status).toBe(201);
    const endpoints = (r: string): [string, string][] => [
      ['GET', `/artifactory/api/repositories/${r}`],
      ['GET', `/artifactory/${r}/a/b.txt`],
      ['HEAD', `/artifactory/${r}/a/b.txt`],
      ['GET', `/artifactory/${r}/`],
      ['PUT', `/artifactory/${r}/a/c.txt`],
      ['DELETE', `/artifactory/${r}/a/b.txt`],
      ['GET', `/artifactory/${r}-cache/a/b.txt`],
      ['GET', `/artifactory/api/storage/${r}/a/b.txt`],
      ['GET', `/artifactory/api/storage/${r}?list&deep=1`],
      ['PUT', `/artifactory/api/storage/${r}/a/b.txt?properties=x=1`],
      ['GET', `/artifactory/api/npm/${r}/pkg`],
      ['GET', `/artifactory/api/npm/${r}/-/v1/search?text=x`],
      ['GET', `/artifactory/api/pypi/${r}/simple/`],
      ['GET', `/artifactory/api/pypi/${r}/simple/pkg/`],
      ['GET', `/artifactory/api/docker/${r}/v2/img/tags/list`],
      ['GET', `/v2/${r}/img/manifests/latest`],
    ];
    const compare = async (who: string, auth: string) => {
      const differences: string[] = [];
      for (const [key] of [...hidden, ['hop-gen'] as [string]]) {
        const a = endpoints(key);
        const b = endpoints('no-such-repo');
        for (let i = 0; i < a.length; i++) {
          const x = await call(plain, a[i][0], a[i][1], { auth, body: a[i][0] === 'PUT' ? 'data' : undefined, headers: { 'content-type': 'text/plain' } });
          const y = await call(plain, b[i][0], b[i][1], { auth, body: b[i][0] === 'PUT' ? 'data' : undefined, headers: { 'content-type': 'text/plain' } });
          const same = x.status === y.status && x.body.split(key).join('R') === y.body.split('no-such-repo').join('R');
          if (!same) differences.push(`${who} ${a[i][0]} ${a[i][1]}: ${x.status} ${x.body.slice(0, 120)} | ${y.status} ${y.body.slice(0, 120)}`);
        }
      }
      return differences;
    };
    // `nobody` holds no permission at all; `reader` reads the remotes (hop-gen is one) but none of these.
    const readerSees = await call(plain, 'GET', repoApi('hop-gen'), { auth: READER });
    expect(readerSees.status).toBe(200);
    expect(await compare('nobody', NOBODY)).toEqual([]);
    const asReader = (await compare('reader', READER)).filter((d) => !d.includes('hop-gen'));
    expect(asReader).toEqual([]);
    expect(await compare('anonymous', '')).toEqual([]);
    const anon = await call(plain, 'PATCH', '/artifactory/api/system/configuration', { body: 'security:\n  anonAccessEnabled: true\n', headers: { 'content-type': 'application/yaml' } });
    expect(anon.status, anon.body).toBe(200);
    try {
      expect(await compare('anonymous (anonymous access on)', '')).toEqual([]);
    } finally {
      await call(plain, 'PATCH', '/artifactory/api/system/configuration', { body: 'security:\n  anonAccessEnabled: false\n', headers: { 'content-type': 'application/yaml' } });
    }
  });
});
