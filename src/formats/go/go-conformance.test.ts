import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goEscape, goModule, type GoModule } from '../../../test/helpers/go-fixtures.js';
import { zipOf } from '../../../test/helpers/stored-zip.js';
import { startListeningNode } from '../testing/conformance-node.js';
import { createRepo, formatConformance, type ConformanceNode, type PackageRef } from '../testing/format-conformance.js';

/**
 * The shared format scenarios for Go, deploying as `jf go-publish` does (PUT of the zip, the
 * .mod and the .info under `/api/go/{repo}/{module}/@v/`) and reading as the go command does
 * (the GOPROXY protocol); then the Go rules: hostile and inconsistent deploys refused with
 * nothing stored, escaping, the generated .info, `@latest`, plain-text errors.
 */

const modulePath = (name: string) => `example.com/${name}`;
/** The shared scenarios use 2.0.0 and 3.0.0 of one module path: `+incompatible` versions, zips without go.mod. */
const goVersion = (version: string) => (Number(version.split('.')[0]) >= 2 ? `v${version}+incompatible` : `v${version}`);
const files = new Map<string, GoModule>();
function moduleOf(p: PackageRef): GoModule {
  const key = `${p.name} ${p.version} ${p.variant ?? 1}`;
  let m = files.get(key);
  if (!m) {
    const module = modulePath(p.name);
    const version = goVersion(p.version);
    m = {
      zip: zipOf([{ name: `${module}@${version}/x.go`, data: `package x\n\nconst Version = "${p.version}/${p.variant ?? 1}"\n`, deflate: true }]),
      // What the go command makes up for a version without go.mod.
      mod: Buffer.from(`module ${module}\n`),
      info: Buffer.from(JSON.stringify({ Version: version, Time: '2024-01-02T03:04:05Z' })),
    };
    files.set(key, m);
  }
  return m;
}

async function put(node: ConformanceNode, repo: string, module: string, version: string, ext: string, body: Buffer): Promise<{ status: number; text: string; sha256: string | null }> {
  const res = await fetch(`${node.base}/api/go/${repo}/${module}/@v/${version}.${ext};go.version=${encodeURIComponent(version)}`, { method: 'PUT', headers: { authorization: node.auth }, body });
  return { status: res.status, text: await res.text(), sha256: res.headers.get('x-checksum-sha256') };
}

async function publishAll(node: ConformanceNode, repo: string, module: string, version: string, m: GoModule): Promise<number> {
  for (const [ext, body] of [['zip', m.zip], ['mod', m.mod], ['info', m.info]] as const) {
    const { status } = await put(node, repo, module, version, ext, body);
    if (status !== 201) return status;
  }
  return 201;
}

async function get(node: ConformanceNode, repo: string, path: string): Promise<{ status: number; body: Buffer; type: string }> {
  const res = await fetch(`${node.base}/api/go/${repo}/${path}`, { headers: { authorization: node.auth } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
}

formatConformance({
  packageType: 'go',
  startNode: startListeningNode,
  upstreamUrl: (upstream, key) => `${upstream.base}/api/go/${key}`,
  publish: (node, repo, p) => publishAll(node, repo, modulePath(p.name), goVersion(p.version), moduleOf(p)),
  async fetch(node, repo, p) {
    const { status, body } = await get(node, repo, `${goEscape(modulePath(p.name))}/@v/${goVersion(p.version)}.zip`);
    return { status, body };
  },
  expectedContent: (p) => moduleOf(p).zip,
  async versions(node, repo, name) {
    const { status, body } = await get(node, repo, `${goEscape(modulePath(name))}/@v/list`);
    if (status === 404) return [];
    expect(status).toBe(200);
    return body.toString().split('\n').filter(Boolean).map((v) => v.slice(1).replace(/\+incompatible$/, ''));
  },
  async remove(node, repo, p) {
    let first = 0;
    for (const ext of ['zip', 'mod', 'info']) {
      const res = await fetch(`${node.base}/${repo}/${goEscape(modulePath(p.name))}/@v/${goVersion(p.version)}.${ext}`, { method: 'DELETE', headers: { authorization: node.auth } });
      await res.arrayBuffer();
      first ||= res.status;
    }
    return first;
  },
  // Module versions are immutable: a different zip for a stored version is refused.
  redeploy: 'refuse',
});

describe('Go modules: protocol rules and bad input', () => {
  let node: ConformanceNode;
  const stored = async (path: string) => (await fetch(`${node.base}/api/storage/go-rules/${path}`, { headers: { authorization: node.auth } })).status;

  beforeAll(async () => {
    node = await startListeningNode();
    await createRepo(node, 'go-rules', { rclass: 'local', packageType: 'go' });
  });
  afterAll(() => node?.close());

  it('takes the raw module path go-publish sends, stores it escaped, serves it escaped', async () => {
    const module = 'example.com/Upper/Case';
    const m = goModule(module, 'v1.0.0-RC1', { 'a.go': 'package a\n' });
    // jf go-publish reads the stored sha256 from the answer.
    expect((await put(node, 'go-rules', module, 'v1.0.0-RC1', 'zip', m.zip)).sha256).toBe(createHash('sha256').update(m.zip).digest('hex'));
    expect(await publishAll(node, 'go-rules', module, 'v1.0.0-RC1', m)).toBe(201);
    expect(await stored('example.com/!upper/!case/@v/v1.0.0-!r!c1.zip')).toBe(200);
    const zip = await get(node, 'go-rules', 'example.com/!upper/!case/@v/v1.0.0-!r!c1.zip');
    expect(zip.status).toBe(200);
    expect(zip.body.equals(m.zip)).toBe(true);
    expect((await get(node, 'go-rules', 'example.com/!upper/!case/@v/list')).body.toString()).toBe('v1.0.0-RC1\n');
    // The go.version matrix parameter became a property.
    const props = await fetch(`${node.base}/api/storage/go-rules/example.com/!upper/!case/@v/v1.0.0-!r!c1.zip?properties`, { headers: { authorization: node.auth } });
    expect(((await props.json()) as { properties: Record<string, string[]> }).properties['go.version']).toEqual(['v1.0.0-RC1']);
  });

  it('lists releases and pre-releases, not pseudo-versions; @latest is the highest release', async () => {
    const module = 'example.com/lister';
    for (const v of ['v1.2.0', 'v1.10.0', 'v1.11.0-rc.1', 'v0.0.0-20240102030405-abcdefabcdef']) {
      expect(await publishAll(node, 'go-rules', module, v, goModule(module, v, { 'a.go': 'package a\n' }))).toBe(201);
    }
    const list = await get(node, 'go-rules', `${module}/@v/list`);
    expect(list.type).toMatch(/^text\/plain/);
    expect(list.body.toString()).toBe('v1.2.0\nv1.10.0\nv1.11.0-rc.1\n');
    const latest = await get(node, 'go-rules', `${module}/@latest`);
    expect(JSON.parse(latest.body.toString())).toEqual({ Version: 'v1.10.0', Time: '2024-01-02T03:04:05Z' });
  });

  it('makes the .info of a version deployed without one', async () => {
    const module = 'example.com/noinfo';
    const m = goModule(module, 'v0.1.0', { 'a.go': 'package a\n' });
    expect((await put(node, 'go-rules', module, 'v0.1.0', 'zip', m.zip)).status).toBe(201);
    expect((await put(node, 'go-rules', module, 'v0.1.0', 'mod', m.mod)).status).toBe(201);
    const info = await get(node, 'go-rules', `${module}/@v/v0.1.0.info`);
    expect(info.status).toBe(200);
    const doc = JSON.parse(info.body.toString()) as { Version: string; Time: string };
    expect(doc.Version).toBe('v0.1.0');
    expect(Number.isNaN(Date.parse(doc.Time))).toBe(false);
    expect(JSON.parse((await get(node, 'go-rules', `${module}/@latest`)).body.toString()).Version).toBe('v0.1.0');
  });

  it('refuses hostile and inconsistent deploys with 400 and a plain-text reason; nothing is stored', async () => {
    const module = 'example.com/hostile';
    const P = `${module}@v1.0.0/`;
    const goMod = `module ${module}\n`;
    const cases: [string, Buffer, string][] = [
      ['traversal', zipOf([{ name: `${P}go.mod`, data: goMod }, { name: `${P}../../evil.go`, data: 'x' }]), "'..'"],
      ['outside the prefix', zipOf([{ name: `${P}go.mod`, data: goMod }, { name: 'evil.go', data: 'x' }]), 'is not under'],
      ['headers that disagree', zipOf([{ name: `${P}go.mod`, data: goMod }, { name: `${P}a.go`, data: 'x', localName: '../a.go' }]), 'central directory'],
      ['another module', zipOf([{ name: `${P}go.mod`, data: 'module example.com/other\n' }]), "declares module 'example.com/other'"],
      ['not a zip', Buffer.from('hello'), 'not a zip archive'],
    ];
    for (const [what, zip, why] of cases) {
      const res = await put(node, 'go-rules', module, 'v1.0.0', 'zip', zip);
      expect(res.status, what).toBe(400);
      expect(res.text, what).toContain(why);
    }
    expect(await stored(`${module}/@v/v1.0.0.zip`)).toBe(404);
    expect((await get(node, 'go-rules', `${module}/@v/list`)).status).toBe(404);
  });

  it('refuses a .mod that disagrees with the zip, whichever comes first, and a wrong .info', async () => {
    const module = 'example.com/pair';
    const m = goModule(module, 'v1.0.0', { 'a.go': 'package a\n' });
    expect((await put(node, 'go-rules', module, 'v1.0.0', 'zip', m.zip)).status).toBe(201);
    const other = await put(node, 'go-rules', module, 'v1.0.0', 'mod', Buffer.from(`module ${module}\n\ngo 1.21\n`));
    expect(other.status).toBe(400);
    expect(other.text).toContain('differs');
    expect((await put(node, 'go-rules', module, 'v1.0.0', 'mod', Buffer.from('module example.com/else\n'))).status).toBe(400);
    expect((await put(node, 'go-rules', module, 'v1.0.0', 'info', Buffer.from('{"Version":"v9.9.9"}'))).status).toBe(400);
    expect(await stored(`${module}/@v/v1.0.0.mod`)).toBe(404);
    expect(await stored(`${module}/@v/v1.0.0.info`)).toBe(404);
    // The .mod first: a zip with another go.mod is refused.
    const n = goModule(module, 'v1.1.0', { 'a.go': 'package a\n' });
    expect((await put(node, 'go-rules', module, 'v1.1.0', 'mod', Buffer.from(`module ${module}\n\ngo 1.21\n`))).status).toBe(201);
    expect((await put(node, 'go-rules', module, 'v1.1.0', 'zip', n.zip)).status).toBe(400);
    // The same bytes again are taken; different ones are refused (409).
    expect((await put(node, 'go-rules', module, 'v1.0.0', 'zip', m.zip)).status).toBe(201);
    expect((await put(node, 'go-rules', module, 'v1.0.0', 'zip', goModule(module, 'v1.0.0', { 'b.go': 'package a\n' }).zip)).status).toBe(409);
  });

  it('refuses bad paths and versions: 400 for malformed input, 404 for what is not there, as plain text', async () => {
    for (const path of ['example.com/m!/@v/list', 'example.com/m/@v/1.0.0.zip', 'nodot/@v/list', 'example.com/m/@v/v2.0.0.zip']) {
      const res = await get(node, 'go-rules', path);
      if (path.endsWith('v2.0.0.zip')) expect(res.status, path).toBe(404);
      else expect(res.status, path).toBe(400);
      expect(res.type, path).toMatch(/^text\/plain/);
    }
    const missing = await get(node, 'go-rules', 'example.com/never/@v/list');
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('example.com/never');
    expect((await get(node, 'go-rules', 'example.com/never/@latest')).status).toBe(404);
    expect((await get(node, 'go-rules', 'example.com/m/@v/v1.0.0.tar')).status).toBe(404);
    // Version files at paths that break the major version rule are refused on deploy.
    const v2 = goModule('example.com/m', 'v2.0.0', {});
    expect((await put(node, 'go-rules', 'example.com/m', 'v2.0.0', 'zip', v2.zip)).status).toBe(400);
    // @v/list is the repository's to make.
    const list = await fetch(`${node.base}/api/go/go-rules/example.com/m/@v/list`, { method: 'PUT', headers: { authorization: node.auth }, body: 'v1.0.0\n' });
    expect(list.status).toBe(405);
  });

  it("proxies a pseudo-version-only module: an empty list, then the upstream's @latest, through a remote and a virtual", async () => {
    const module = 'example.com/pseudo';
    const version = 'v0.0.0-20240102030405-abcdefabcdef';
    expect(await publishAll(node, 'go-rules', module, version, goModule(module, version, { 'a.go': 'package a\n' }))).toBe(201);
    await createRepo(node, 'go-self', { rclass: 'remote', packageType: 'go', url: `${node.base}/api/go/go-rules`, username: node.user, password: node.password, retrievalCachePeriodSecs: 0 });
    await createRepo(node, 'go-virt', { rclass: 'virtual', packageType: 'go', repositories: ['go-self'] });
    for (const repo of ['go-rules', 'go-self', 'go-virt']) {
      const list = await get(node, repo, `${module}/@v/list`);
      expect(list.status, repo).toBe(200);
      expect(list.body.toString(), repo).toBe('');
      const latest = await get(node, repo, `${module}/@latest`);
      expect(latest.status, repo).toBe(200);
      expect(JSON.parse(latest.body.toString()).Version, repo).toBe(version);
      expect((await get(node, repo, `${module}/@v/${version}.mod`)).body.toString(), repo).toBe(`module ${module}\n\ngo 1.19\n`);
    }
    expect((await get(node, 'go-self', 'example.com/absent/@v/list')).status).toBe(404);
    expect((await get(node, 'go-virt', 'example.com/absent/@latest')).status).toBe(404);
    // Remote repositories are read-only, through the GOPROXY URL too.
    expect((await put(node, 'go-self', module, 'v0.1.0', 'mod', Buffer.from(`module ${module}\n`))).status).toBe(405);
  });

  it('checks deploys through the plain artifact API too', async () => {
    const res = await fetch(`${node.base}/go-rules/example.com/plain/@v/v1.0.0.zip`, { method: 'PUT', headers: { authorization: node.auth }, body: zipOf([{ name: 'x/../../a', data: 'x' }]) });
    expect(res.status).toBe(400);
    const elsewhere = await fetch(`${node.base}/go-rules/random/file.txt`, { method: 'PUT', headers: { authorization: node.auth }, body: 'x' });
    expect(elsewhere.status).toBe(400);
  });
});
