import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeningNode } from '../../src/formats/testing/conformance-node.js';
import type { ConformanceNode } from '../../src/formats/testing/format-conformance.js';
import { basic } from '../helpers/credentials.js';
import { DEBIAN_TWINE, missingDebianClients, run } from '../helpers/debian-python.js';
import { multipartBody, twineFields, wheelFilename, writeWheel } from '../helpers/pypi-fixtures.js';
import { sha256 } from '../http/oci-client.js';

/** Debian's own clients (python3-pip, python3-venv, twine; .ci/run installs them): without them their tests are skipped, saying why. */
const MISSING_CLIENTS = missingDebianClients();
if (MISSING_CLIENTS) console.warn(`[13-overwrite-refusal] Debian's client tests are skipped: ${MISSING_CLIENTS}`);

/**
 * Issue 12, item 13: an overwrite refused for want of the delete permission is answered in
 * the seed product's wording on every deploy route (generic, Maven, PyPI, OCI tags), so
 * clients that recognise it behave: Debian's `twine upload --skip-existing` skips an
 * existing file for a read-write user, and still fails on a real refusal.
 */

const DEPLOYER = { name: 'deployer', password: 'Deployer-Pw1' };
const READER = { name: 'reader', password: 'Reader-Pw1' };
const wording = (repo: string, path: string, user: string) => `Not enough permissions to delete/overwrite artifact '${repo}:${path}' (user '${user}' needs DELETE permission).`;
/** twine 4.0.2's `skip_upload` (commands/upload.py), for the seed product. */
const twineSkips = (status: number, text: string) => status === 403 && text.toLowerCase().includes('overwrite artifact');

describe('item 13: overwrite refusals speak the seed product’s wording on every deploy route', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-sec13-'));
  let node: ConformanceNode;
  const wheel = join(dir, wheelFilename('sec-thirteen', '1.0'));
  const wheel2 = join(dir, wheelFilename('sec-thirteen', '2.0'));

  const call = (path: string, init: RequestInit & { auth?: string } = {}) =>
    fetch(`${node.base}${path}`, { ...init, headers: { authorization: init.auth ?? node.auth, ...(init.headers ?? {}) } });
  const as = (u: { name: string; password: string }) => basic(u.name, u.password);
  const admin = async (method: string, path: string, body: unknown, type = 'application/json') => {
    const res = await call(path, { method, headers: { 'content-type': type }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });
    expect(res.status, await res.text()).toBeLessThan(300);
  };
  const pypiUpload = (file: string, version: string, auth: string) => {
    const content = readFileSync(file);
    const form = multipartBody({ fields: twineFields('sec-thirteen', version, content, 'bdist_wheel'), filename: file.slice(dir.length + 1), content });
    return call('/api/pypi/py-local', { method: 'POST', auth, headers: { 'content-type': form.contentType }, body: form.body });
  };
  const manifest = (config: string) =>
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 }, layers: [], annotations: { n: String(Math.random()) } });
  const putManifest = (tag: string, body: string, auth: string) =>
    fetch(`${node.base.replace(/\/artifactory$/, '')}/v2/docker-local/app/manifests/${tag}`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body });

  beforeAll(async () => {
    writeWheel(wheel, { name: 'sec-thirteen', version: '1.0' });
    writeWheel(wheel2, { name: 'sec-thirteen', version: '2.0' });
    node = await startListeningNode();
    for (const [key, packageType] of [['gen-local', 'generic'], ['mvn-local', 'maven'], ['py-local', 'pypi'], ['docker-local', 'docker']]) {
      await admin('PUT', `/api/repositories/${key}`, { rclass: 'local', packageType });
    }
    for (const u of [DEPLOYER, READER]) await admin('PUT', `/api/security/users/${u.name}`, { password: u.password, email: `${u.name}@example.com` });
    const target = (users: Record<string, string[]>) => ({ 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['ANY LOCAL'], actions: { users, groups: {} } });
    await admin('PUT', '/api/v2/security/permissions/rw-no-delete', { name: 'rw-no-delete', repo: target({ [DEPLOYER.name]: ['read', 'write'], [READER.name]: ['read'] }) });
    // What exists already, deployed by the admin.
    await admin('PUT', '/gen-local/dist/app.tar.gz', 'v1', 'application/octet-stream');
    await admin('PUT', '/mvn-local/org/acme/lib/1.0/lib-1.0.jar', 'jar 1.0', 'application/java-archive');
    expect((await pypiUpload(wheel, '1.0', node.auth)).status).toBe(200);
    const config = sha256('{}');
    const start = await call('/api/docker/docker-local/v2/app/blobs/uploads/', { method: 'POST' });
    expect(start.status).toBe(202);
    const blob = await call(`${start.headers.get('location')!.replace(/^\/artifactory/, '')}?digest=${config}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: '{}' });
    expect(blob.status, await blob.text()).toBe(201);
    expect((await putManifest('v1', manifest(config), node.auth)).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generic and Maven PUT: 403 in the JFrog error shape, with the wording', async () => {
    for (const [repo, path] of [['gen-local', 'dist/app.tar.gz'], ['mvn-local', 'org/acme/lib/1.0/lib-1.0.jar']]) {
      const res = await call(`/${repo}/${path}`, { method: 'PUT', auth: as(DEPLOYER), headers: { 'content-type': 'application/octet-stream' }, body: 'again' });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ errors: [{ status: 403, message: wording(repo, path, DEPLOYER.name) }] });
    }
    expect(await (await call('/gen-local/dist/app.tar.gz')).text()).toBe('v1');
  });

  it('PyPI upload: a 403 twine recognises as "already exists"', async () => {
    const res = await pypiUpload(wheel, '1.0', as(DEPLOYER));
    const text = await res.text();
    expect(text.trim()).toBe(wording('py-local', `sec-thirteen/1.0/${wheelFilename('sec-thirteen', '1.0')}`, DEPLOYER.name));
    expect(twineSkips(res.status, text)).toBe(true);
    // A real refusal (no write permission) is not mistaken for one.
    const denied = await pypiUpload(wheel2, '2.0', as(READER));
    expect(denied.status).toBe(403);
    expect(twineSkips(denied.status, await denied.text())).toBe(false);
  });

  it('OCI: moving a tag without delete is 403 DENIED with the wording', async () => {
    const other = manifest(sha256('{}'));
    const res = await putManifest('v1', other, as(DEPLOYER));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ errors: [{ code: 'DENIED', message: wording('docker-local', 'app/v1/manifest.json', DEPLOYER.name) }] });
    // A new tag is no overwrite.
    expect((await putManifest('v2', other, as(DEPLOYER))).status).toBe(201);
  });

  describe.skipIf(MISSING_CLIENTS !== undefined)("Debian's twine 4.0.2", () => {
    const twine = (file: string, u: { name: string; password: string }) =>
      run(DEBIAN_TWINE, ['upload', '--non-interactive', '--skip-existing', '--disable-progress-bar', '--repository-url', `${node.base}/api/pypi/py-local`, '-u', u.name, '-p', u.password, file], { timeoutMs: 60_000, env: { COLUMNS: '300', NO_COLOR: '1' } });

    it('upload --skip-existing skips an existing file for a read-write user without delete', async () => {
      const r = await twine(wheel, DEPLOYER);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/Skipping sec_thirteen-1\.0-py3-none-any\.whl because it appears to\s+already exist/);
    }, 60_000);

    it('still fails on a real refusal', async () => {
      const r = await twine(wheel2, READER);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/403/);
      expect(r.out).not.toMatch(/Skipping/);
    }, 60_000);
  });
});
