import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarHeader } from '../../src/formats/npm/testing/pack.js';
import { npmBombTarball, wheelBomb } from '../helpers/bombs.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_AUTH, basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { storedZip } from '../helpers/stored-zip.js';

/**
 * Archives (issue 15, item 5) against a real node: `X-Explode-Archive` of zip, tar and tar.gz
 * (built by the real `zip` and `tar` tools, and by hand for the hostile ones), the archive entry
 * index behind AQL `archive.entry.*` on every dialect, and `/api/archive/download` read back by
 * the real `unzip` and `tar`.
 */

const LOW = basic('archlow', 'Archlow-Passw0rd!');
const DEPLOYER = basic('archdeployer', 'Archdeploy-Passw0rd!');
const scratch = mkdtempSync(join(tmpdir(), 'arca-archives-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder of files made on disk, then packed by a real tool (`zip -r -y`, `tar -c[z]`). */
function packed(kind: 'zip' | 'zip-stream' | 'jar' | 'tar' | 'tgz', files: Record<string, string>, links: Record<string, string> = {}): Buffer {
  const dir = mkdtempSync(join(scratch, 'src-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  for (const [p, target] of Object.entries(links)) symlinkSync(target, join(dir, p));
  const out = join(scratch, `out-${Math.random().toString(36).slice(2)}.${kind}`);
  if (kind === 'zip') execFileSync('zip', ['-q', '-r', '-y', out, '.'], { cwd: dir });
  // Written to a pipe: sizes in data descriptors after each entry's data.
  else if (kind === 'zip-stream') writeFileSync(out, execFileSync('sh', ['-c', 'zip -q -r - . | cat'], { cwd: dir }));
  else if (kind === 'jar') execFileSync('jar', ['cf', out, '-C', dir, '.']);
  else execFileSync('tar', [kind === 'tgz' ? '-czf' : '-cf', out, '.'], { cwd: dir });
  return readFileSync(out);
}

/** A tar of raw members (hand-made headers: links, escaping paths). */
function rawTar(members: { name: string; data?: string; type?: string; link?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? '');
    const h = tarHeader(m.name, data.length, m.type ?? '0');
    if (m.link) {
      h.write(m.link, 157, 100, 'utf8');
      let sum = 0;
      h.fill(0x20, 148, 156);
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
    }
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A zip whose second entry's deflate data is cut short (its header says 100 bytes). */
function brokenSecondEntry(): Buffer {
  const good = storedZip({ 'one.txt': 'one, new' });
  // Rebuild: one good stored entry, one deflated entry whose stream ends early.
  const full = deflateRawSync(Buffer.alloc(100, 0x61));
  const cut = full.subarray(0, Math.max(1, full.length - 3));
  const name = Buffer.from('two.txt');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc32(Buffer.alloc(100, 0x61)) >>> 0, 14);
  local.writeUInt32LE(cut.length, 18);
  local.writeUInt32LE(100, 22);
  local.writeUInt16LE(name.length, 26);
  // good = [local1 name1 data1][central1][end]; split it.
  const endAt = good.length - 22;
  const dirSize = good.readUInt32LE(endAt + 12);
  const dirAt = good.readUInt32LE(endAt + 16);
  const firstLocal = good.subarray(0, dirAt);
  const firstCentral = good.subarray(dirAt, dirAt + dirSize);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc32(Buffer.alloc(100, 0x61)) >>> 0, 16);
  central.writeUInt32LE(cut.length, 20);
  central.writeUInt32LE(100, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(firstLocal.length, 42);
  const secondLocal = Buffer.concat([local, name, cut]);
  const dir = Buffer.concat([firstCentral, central, name]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(2, 8);
  end.writeUInt16LE(2, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(firstLocal.length + secondLocal.length, 16);
  return Buffer.concat([firstLocal, secondLocal, dir, end]);
}

describe('X-Explode-Archive and folder downloads (sqlite)', () => {
  let node: TestNode;

  const put = (url: string, payload: Buffer | string, headers: Record<string, string> = {}, authorization = ADMIN_AUTH) =>
    node.request({ method: 'PUT', url: `/artifactory/${url}`, payload, headers: { authorization, 'x-explode-archive': 'true', ...headers } });
  const text = async (path: string) => {
    const res = await node.request({ method: 'GET', url: `/artifactory/${path}` });
    return res.statusCode === 200 ? res.body : undefined;
  };
  const filesUnder = async (repo: string) =>
    (await node.ctx.database.db.selectFrom('items').select(['path', 'name']).where('repo', '=', repo).where('type', '=', 'file').execute())
      .map((r) => (r.path ? `${r.path}/${r.name}` : r.name))
      .sort();

  beforeAll(async () => {
    node = await startTestNode('sqlite');
    for (const key of ['ex', 'ex-hostile', 'ex-atomic', 'ex-dl']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(res.statusCode).toBe(200);
    }
    for (const [name, password] of [['archlow', 'Archlow-Passw0rd!'], ['archdeployer', 'Archdeploy-Passw0rd!']]) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/security/users/${name}`, payload: { email: `${name}@example.com`, password } });
      expect([200, 201]).toContain(res.statusCode);
    }
    for (const t of [
      { name: 'arch-low', repo: { 'include-patterns': ['pub/**'], 'exclude-patterns': [], repositories: ['ex-dl', 'ex'], actions: { users: { archlow: ['read'] } } } },
      { name: 'arch-deploy', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['ex-atomic'], actions: { users: { archdeployer: ['read', 'write'] } } } },
    ]) {
      const res = await node.request({ method: 'POST', url: `/artifactory/api/v2/security/permissions/${t.name}`, payload: t });
      expect([200, 201], res.body).toContain(res.statusCode);
    }
  });

  afterAll(async () => node?.close());

  it.each(['zip', 'zip-stream', 'jar', 'tar', 'tgz'] as const)('explodes a %s made by the real tool under the folder of the PUT path, with the matrix properties', async (kind) => {
    const archive = packed(kind, { 'a.txt': `a of ${kind}`, 'sub/deeper/b.txt': `b of ${kind}` });
    const ext = kind === 'tgz' ? 'tar.gz' : kind === 'zip-stream' ? 'zip' : kind;
    const res = await put(`ex/${kind}/drop/bundle.${ext};team=blue`, archive);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.path).toBe(`/${kind}/drop`);
    // The jar tool adds its manifest.
    expect(body.files.sort()).toEqual([`/${kind}/drop/a.txt`, ...(kind === 'jar' ? [`/${kind}/drop/META-INF/MANIFEST.MF`] : []), `/${kind}/drop/sub/deeper/b.txt`].sort());
    expect(await text(`ex/${kind}/drop/a.txt`)).toBe(`a of ${kind}`);
    expect(await text(`ex/${kind}/drop/sub/deeper/b.txt`)).toBe(`b of ${kind}`);
    // The archive itself is not stored.
    expect(await text(`ex/${kind}/drop/bundle.${ext}`)).toBeUndefined();
    const props = await node.request({ method: 'GET', url: `/artifactory/api/storage/ex/${kind}/drop/a.txt?properties` });
    expect(props.json().properties).toEqual({ team: ['blue'] });
  });

  it('explodes at the repository root when the archive is put there', async () => {
    const res = await put('ex/at-root.tgz', packed('tgz', { 'rooted/r.txt': 'r' }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().path).toBe('/');
    expect(await text('ex/rooted/r.txt')).toBe('r');
  });

  it('checks the checksums the client declared for the archive (409 on a mismatch, nothing deployed)', async () => {
    const archive = packed('zip', { 'c.txt': 'c' });
    const res = await put('ex/sums/bundle.zip', archive, { 'x-checksum-sha1': '0'.repeat(40) });
    expect(res.statusCode, res.body).toBe(409);
    expect(await text('ex/sums/c.txt')).toBeUndefined();
  });

  const hostile: [string, string, () => Promise<Buffer> | Buffer, RegExp][] = [
    ['a zip slip (../)', 'slip.zip', () => storedZip({ 'fine.txt': 'fine', '../../evil.txt': 'evil' }), /escapes the target folder/],
    ['an absolute zip path', 'abs.zip', () => storedZip({ 'fine.txt': 'fine', '/etc/evil': 'evil' }), /absolute path/],
    ['a zip with a symbolic link (zip -y)', 'link.zip', () => packed('zip', { 'fine.txt': 'fine' }, { 'passwd': '/etc/passwd' }), /symbolic link/],
    ['a tar with a symbolic link', 'link.tar', () => packed('tar', { 'fine.txt': 'fine' }, { 'passwd': '/etc/passwd' }), /symbolic link/],
    ['a tar with a hard link', 'hard.tar', () => rawTar([{ name: 'fine.txt', data: 'fine' }, { name: 'hard', type: '1', link: '/etc/passwd' }]), /hard link/],
    ['a tar with a device', 'dev.tar', () => rawTar([{ name: 'fine.txt', data: 'fine' }, { name: 'dev', type: '3' }]), /not a regular file/],
    ['a tar slip', 'slip.tgz', () => gzipSync(rawTar([{ name: 'fine.txt', data: 'fine' }, { name: 'a/../../evil.txt', data: 'evil' }])), /escapes the target folder/],
    ['a zip bomb (1 GiB deflated into 1 MiB)', 'bomb.zip', () => wheelBomb('bomb', '1.0'), /times its compressed size/],
    ['a tar.gz bomb', 'bomb.tgz', () => npmBombTarball('bomb', '1.0.0'), /times its compressed size|more than/],
    ['a zip of too many entries', 'many.zip', () => storedZip(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`f/${i}`, '']))), /more than 10000 entries/],
    ['a corrupt file that is no zip', 'junk.zip', () => Buffer.from('this is not a zip archive at all'), /not a zip/],
  ];

  it.each(hostile)('refuses %s with a 400 and deploys nothing', async (_what, name, make, message) => {
    const archive = await make();
    for (const atomic of [false, true]) {
      const res = await put(`ex-hostile/in/${name}`, archive, atomic ? { 'x-explode-archive-atomic': 'true' } : {});
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors[0].message).toMatch(message);
    }
    expect(await filesUnder('ex-hostile')).toEqual([]);
  }, 60_000);

  it('atomic: a failure part way deletes what it created and puts back what it replaced', async () => {
    expect((await node.request({ method: 'PUT', url: '/artifactory/ex-atomic/at/one.txt;kept=yes', payload: 'one, old' })).statusCode).toBe(201);
    const res = await put('ex-atomic/at/bundle.zip', brokenSecondEntry(), { 'x-explode-archive-atomic': 'true' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors[0].message).toMatch(/two.txt/);
    expect(await text('ex-atomic/at/one.txt')).toBe('one, old');
    const props = await node.request({ method: 'GET', url: '/artifactory/api/storage/ex-atomic/at/one.txt?properties' });
    expect(props.json().properties).toEqual({ kept: ['yes'] });
    expect(await text('ex-atomic/at/two.txt')).toBeUndefined();
    // Not atomic: the file before the failing one stays (as the seed does).
    const plain = await put('ex-atomic/plain/bundle.zip', brokenSecondEntry());
    expect(plain.statusCode).toBe(400);
    expect(await text('ex-atomic/plain/one.txt')).toBe('one, new');
    expect(await text('ex-atomic/plain/two.txt')).toBeUndefined();
  });

  it('a low-privilege user: 403 before the body without deploy permission; no overwrite without delete', async () => {
    const archive = packed('zip', { 'x.txt': 'x' });
    const denied = await put('ex/pub/low/bundle.zip', archive, {}, LOW);
    expect(denied.statusCode, denied.body).toBe(403);
    expect(await text('ex/pub/low/x.txt')).toBeUndefined();
    // May deploy, may not delete: new files go in, an existing one is not replaced (nothing deployed).
    const fresh = await put('ex-atomic/dep/bundle.zip', archive, {}, DEPLOYER);
    expect(fresh.statusCode, fresh.body).toBe(201);
    const again = await put('ex-atomic/dep/bundle.zip', packed('zip', { 'x.txt': 'x2', 'y.txt': 'y' }), {}, DEPLOYER);
    expect(again.statusCode, again.body).toBe(403);
    expect(await text('ex-atomic/dep/x.txt')).toBe('x');
    expect(await text('ex-atomic/dep/y.txt')).toBeUndefined();
  });

  describe('GET /api/archive/download', () => {
    const files: Record<string, string> = {
      'pub/app/readme.txt': 'read me',
      'pub/app/lib/core.jar': 'not really a jar',
      [`pub/app/${'long-folder-name/'.repeat(8)}deep.txt`]: 'deep below',
      'pub/app/secret/key.txt': 'secret',
    };

    beforeAll(async () => {
      for (const [p, content] of Object.entries(files)) {
        expect((await node.request({ method: 'PUT', url: `/artifactory/ex-dl/${p}`, payload: content })).statusCode).toBe(201);
      }
      // The low-privilege user reads pub/** but not pub/app/secret.
      const t = { name: 'arch-low', repo: { 'include-patterns': ['pub/**'], 'exclude-patterns': ['pub/app/secret/**'], repositories: ['ex-dl', 'ex'], actions: { users: { archlow: ['read'] } } } };
      expect((await node.request({ method: 'PUT', url: '/artifactory/api/v2/security/permissions/arch-low', payload: t })).statusCode).toBeLessThan(300);
    });

    async function download(query: string, authorization = ADMIN_AUTH) {
      return node.request({ method: 'GET', url: `/artifactory/api/archive/download/ex-dl/pub/app?${query}`, headers: { authorization } });
    }

    function save(body: Buffer, ext: string): string {
      const f = join(scratch, `dl-${Math.random().toString(36).slice(2)}.${ext}`);
      writeFileSync(f, body);
      return f;
    }

    it('zip: the real unzip lists and extracts it; Content-Disposition names the folder', async () => {
      const res = await download('archiveType=zip');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('application/zip');
      expect(res.headers['content-disposition']).toMatch(/attachment; filename="app.zip"/);
      const f = save(res.rawPayload, 'zip');
      execFileSync('unzip', ['-tq', f]);
      const names = execFileSync('unzip', ['-Z1', f], { encoding: 'utf8' }).trim().split('\n').sort();
      expect(names).toEqual(Object.keys(files).map((p) => p.slice('pub/app/'.length)).sort());
      expect(execFileSync('unzip', ['-p', f, 'readme.txt'], { encoding: 'utf8' })).toBe('read me');
      expect(execFileSync('unzip', ['-p', f, `${'long-folder-name/'.repeat(8)}deep.txt`], { encoding: 'utf8' })).toBe('deep below');
    });

    it.each(['tar', 'tar.gz', 'tgz'])('%s: the real tar reads it, long paths included', async (type) => {
      const res = await download(`archiveType=${type}`);
      expect(res.statusCode, res.body).toBe(200);
      const f = save(res.rawPayload, type === 'tar' ? 'tar' : 'tgz');
      const names = execFileSync('tar', [type === 'tar' ? '-tf' : '-tzf', f], { encoding: 'utf8' }).trim().split('\n').sort();
      expect(names).toEqual(Object.keys(files).map((p) => p.slice('pub/app/'.length)).sort());
      const out = mkdtempSync(join(scratch, 'x-'));
      execFileSync('tar', [type === 'tar' ? '-xf' : '-xzf', f, '-C', out]);
      expect(readFileSync(join(out, 'long-folder-name/'.repeat(8), 'deep.txt'), 'utf8')).toBe('deep below');
    });

    it('holds only what the caller may read, with checksum files when asked', async () => {
      const res = await download('archiveType=zip&includeChecksumFiles=true', LOW);
      expect(res.statusCode, res.body).toBe(200);
      const f = save(res.rawPayload, 'zip');
      const names = execFileSync('unzip', ['-Z1', f], { encoding: 'utf8' }).trim().split('\n');
      expect(names).not.toContain('secret/key.txt');
      expect(names).toContain('readme.txt');
      expect(names).toContain('readme.txt.sha1');
      expect(names).toContain('readme.txt.sha256');
      expect(execFileSync('unzip', ['-p', f, 'readme.txt.sha1'], { encoding: 'utf8' })).toMatch(/^[0-9a-f]{40}$/);
      // A folder the caller may not read at all.
      const denied = await node.request({ method: 'GET', url: '/artifactory/api/archive/download/ex-dl/pub/app/secret?archiveType=zip', headers: { authorization: LOW } });
      expect([403, 404]).toContain(denied.statusCode);
    });

    it('the repository root: named after the repository', async () => {
      const res = await node.request({ method: 'GET', url: '/artifactory/api/archive/download/ex-dl?archiveType=tgz' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-disposition']).toMatch(/filename="ex-dl.tar.gz"/);
      const names = execFileSync('tar', ['-tzf', save(res.rawPayload, 'tgz')], { encoding: 'utf8' }).trim().split('\n').sort();
      expect(names).toEqual(Object.keys(files).sort());
    });

    it('refuses a bad archiveType, a file, a missing folder', async () => {
      expect((await download('archiveType=rar')).statusCode).toBe(400);
      expect((await node.request({ method: 'GET', url: '/artifactory/api/archive/download/ex-dl/pub/app/readme.txt?archiveType=zip' })).statusCode).toBe(400);
      expect((await node.request({ method: 'GET', url: '/artifactory/api/archive/download/ex-dl/nothing?archiveType=zip' })).statusCode).toBe(404);
    });
  });
});

describe('folder download limits and the switch', () => {
  let node: TestNode;
  afterAll(async () => node?.close());

  it('more files than arca.archiveDownload.maxFiles: 400 before the archive starts; disabled: 403', async () => {
    node = await startTestNode('sqlite', { ARCA_ARCHIVEDOWNLOAD_MAXFILES: '2' });
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/lim', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    for (const n of ['a', 'b', 'c']) expect((await node.request({ method: 'PUT', url: `/artifactory/lim/f/${n}.txt`, payload: n })).statusCode).toBe(201);
    const res = await node.request({ method: 'GET', url: '/artifactory/api/archive/download/lim/f?archiveType=zip' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].message).toMatch(/more than 2 files/);
    await node.close();
    node = await startTestNode('sqlite', { ARCA_ARCHIVEDOWNLOAD_ENABLED: 'false' });
    const off = await node.request({ method: 'GET', url: '/artifactory/api/archive/download/lim/f?archiveType=zip' });
    expect(off.statusCode).toBe(403);
    expect(off.json().errors[0].message).toBe('Download Folder functionality is disabled.');
  });
});

describe.each(DIALECTS)('archive entry index and AQL archive.entry.* on %s', (dialect) => {
  let node: TestNode;
  const jar = storedZip({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n', 'org/x/Foo.class': 'foo', 'org/x/Bar.class': 'bar', 'top.properties': 'a=1' });

  async function found(query: string, authorization = ADMIN_AUTH): Promise<string[]> {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', headers: { authorization, 'content-type': 'text/plain' }, payload: query });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().results as Record<string, string>[]).map((r) => `${r.repo}/${r.path}/${r.name}`).sort();
  }

  beforeAll(async () => {
    node = await startTestNode(dialect, { ARCA_GC_GRACESECS: '0' });
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/jars', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    for (const p of ['pub/a-1.0.jar', 'secret/b-1.0.jar']) expect((await node.request({ method: 'PUT', url: `/artifactory/jars/${p}`, payload: jar })).statusCode).toBe(201);
    expect((await node.request({ method: 'PUT', url: '/artifactory/jars/pub/other.zip', payload: storedZip({ 'docs/readme.txt': 'hi' }) })).statusCode).toBe(201);
    expect((await node.request({ method: 'PUT', url: '/artifactory/jars/pub/fake.jar', payload: 'not a zip' })).statusCode).toBe(201);
    // A jar of the real jar tool: deflated entries with data descriptors.
    expect((await node.request({ method: 'PUT', url: '/artifactory/jars/pub/real.jar', payload: packed('jar', { 'com/acme/Main.class': 'main' }) })).statusCode).toBe(201);
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/archlow', payload: { email: 'l@example.com', password: 'Archlow-Passw0rd!' } });
    expect([200, 201]).toContain(user.statusCode);
    const t = { name: 'jars-pub', repo: { 'include-patterns': ['pub/**'], 'exclude-patterns': [], repositories: ['jars'], actions: { users: { archlow: ['read'] } } } };
    expect((await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/jars-pub', payload: t })).statusCode).toBeLessThan(300);
    await node.ctx.archives.index.idle();
  }, 120_000);

  afterAll(async () => node?.close());

  it('indexes each binary once, shared by its copies', async () => {
    const db = node.ctx.database.db;
    const binaries = await db.selectFrom('archive_binaries').selectAll().execute();
    expect(binaries.map((b) => Number(b.entry_count)).sort()).toEqual([0, 1, 2, 4]);
    const entries = await db.selectFrom('archive_entries').select(['entry_path', 'entry_name']).execute();
    expect(entries).toHaveLength(7);
  });

  it('finds items by entry name and path (one entry for both), with $match on a suffix', async () => {
    expect(await found('items.find({"archive.entry.name":{"$match":"*.class"}})')).toEqual(['jars/pub/a-1.0.jar', 'jars/pub/real.jar', 'jars/secret/b-1.0.jar']);
    expect(await found('items.find({"archive.entry.name":"Foo.class","archive.entry.path":"org/x"})')).toEqual(['jars/pub/a-1.0.jar', 'jars/secret/b-1.0.jar']);
    expect(await found('items.find({"archive.entry.name":"Foo.class","archive.entry.path":"META-INF"})')).toEqual([]);
    expect(await found('items.find({"archive.entry.name":"top.properties","archive.entry.path":"."})')).toEqual(['jars/pub/a-1.0.jar', 'jars/secret/b-1.0.jar']);
    expect(await found('items.find({"archive.entry.path":{"$match":"do*"}})')).toEqual(['jars/pub/other.zip']);
    expect(await found('items.find({"archive.entry.name":"Main.class","archive.entry.path":"com/acme"})')).toEqual(['jars/pub/real.jar']);
    expect(await found('items.find({"$or":[{"archive.entry.name":"readme.txt"},{"name":"fake.jar"}]})')).toEqual(['jars/pub/fake.jar', 'jars/pub/other.zip']);
    // The JFrog CLI's archive search shape (aqlquerybuilder.go buildInnerArchiveQueryPart).
    const cli = '{"$and":[{"repo":"jars","path":{"$match":"*"},"name":{"$match":"*"},"archive.entry.path":{"$match":"org/*"},"archive.entry.name":{"$match":"Bar*"}}]}';
    expect(await found(`items.find({"$or":[${cli}]})`)).toEqual(['jars/pub/a-1.0.jar', 'jars/secret/b-1.0.jar']);
  });

  it('filters by read permission and includes the entries when asked', async () => {
    expect(await found('items.find({"archive.entry.name":{"$match":"*.class"}})', basic('archlow', 'Archlow-Passw0rd!'))).toEqual(['jars/pub/a-1.0.jar', 'jars/pub/real.jar']);
    const res = await node.request({
      method: 'POST',
      url: '/artifactory/api/search/aql',
      headers: { 'content-type': 'text/plain' },
      payload: 'items.find({"name":"other.zip"}).include("name","archive.entry")',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().results[0].archives).toEqual([{ entries: [{ 'entry.name': 'readme.txt', 'entry.path': 'docs' }] }]);
  });

  it('drops the entries of a binary once no item holds it (garbage collection)', async () => {
    for (const p of ['pub/a-1.0.jar', 'secret/b-1.0.jar']) expect((await node.request({ method: 'DELETE', url: `/artifactory/jars/${p}` })).statusCode).toBe(204);
    await node.ctx.runGc();
    const db = node.ctx.database.db;
    expect(await db.selectFrom('archive_entries').select('entry_name').where('entry_name', '=', 'Foo.class').execute()).toEqual([]);
    expect((await db.selectFrom('archive_entries').select('entry_name').execute()).map((r) => r.entry_name).sort()).toEqual(['MANIFEST.MF', 'Main.class', 'readme.txt']);
  });
});

