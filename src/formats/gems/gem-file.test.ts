import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isArcaError } from '../../core/errors.js';
import { buildGem, gemspecYaml, tar, tarEntry } from '../../../test/helpers/gems-fixtures.js';
import { GEM_LIMITS, readGem } from './gem-file.js';
import { gemsHandler } from './gems-handler.js';
import type { RepoStore } from '../format-handler.js';
import { compareGemVersions, isValidGemName, isValidGemVersion } from './names.js';
import { fullNameCandidates } from './gem-layout.js';

/** Reading .gem files, and the hostile ones refused before anything is stored. */

async function refused(gem: Buffer): Promise<string> {
  try {
    await readGem(gem);
  } catch (err) {
    if (isArcaError(err, 'BAD_REQUEST')) return err.message;
    throw err;
  }
  throw new Error('the gem was accepted');
}

describe('readGem', () => {
  it('reads the spec of a gem as gem build writes it', async () => {
    const gem = await readGem(buildGem({ name: 'tiny', version: '0.3.1', dependencies: { rack: '~> 2.2', json: '>= 1.0, < 3' } }));
    expect(gem.fullName).toBe('tiny-0.3.1');
    expect(gem.spec).toMatchObject({ name: 'tiny', version: '0.3.1', platform: 'ruby', authors: ['Arca Tests'], licenses: ['MIT'], specificationVersion: 4 });
    expect(gem.spec.dependencies).toEqual([
      { name: 'rack', type: 'runtime', requirements: [['~>', '2.2']] },
      { name: 'json', type: 'runtime', requirements: [['>=', '1.0'], ['<', '3']] },
    ]);
    expect(gem.spec.requiredRubyVersion).toEqual([['>=', '2.0']]);
    expect(gem.spec.date).toBe(Date.UTC(2024, 4, 6));
  });

  it('names platform gems with their platform', async () => {
    expect((await readGem(buildGem({ name: 'native', version: '1.0.0', platform: 'x86_64-linux' }))).fullName).toBe('native-1.0.0-x86_64-linux');
  });

  it('refuses what is not a tar, or a tar without the gem members', async () => {
    expect(await refused(Buffer.from('not a gem at all'))).toMatch(/not a valid gem/);
    expect(await refused(Buffer.alloc(0))).toMatch(/not a valid gem/);
    const corrupt = buildGem({ name: 'x', version: '1.0.0' });
    corrupt[10] ^= 0xff; // the first header's checksum no longer matches
    expect(await refused(corrupt)).toMatch(/checksum mismatch/);
    expect(await refused(tar([tarEntry('data.tar.gz', gzipSync(tar([])))]))).toMatch(/no metadata.gz/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0' }).subarray(0, 700))).toMatch(/truncated/);
  });

  it('refuses unsafe paths, in the gem and in data.tar.gz', async () => {
    expect(await refused(tar([tarEntry('../metadata.gz', Buffer.alloc(1))]))).toMatch(/unsafe path/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', files: { '../../etc/cron.d/evil': 'x' } }))).toMatch(/unsafe path/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', files: { '/etc/passwd': 'x' } }))).toMatch(/unsafe path/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', links: { 'lib/x.rb': '../../../etc/passwd' } }))).toMatch(/points outside/);
    await expect(readGem(buildGem({ name: 'x', version: '1.0.0', links: { 'lib/y.rb': 'x.rb' } }))).resolves.toBeTruthy();
  });

  it('refuses checksums that do not match and broken gzip streams', async () => {
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', badChecksum: true }))).toMatch(/SHA256 checksum of data.tar.gz/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', noChecksums: true, dataTarGz: Buffer.from('nope') }))).toMatch(/gzip/);
  });

  it('refuses decompression bombs', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61), { level: 9 });
    expect(await refused(tar([tarEntry('metadata.gz', bomb), tarEntry('data.tar.gz', gzipSync(tar([])))]))).toMatch(/metadata.gz expands to more than/);
    // data.tar.gz is walked as it inflates; the limit is lowered so the test stays fast.
    const limit = GEM_LIMITS.dataBytes;
    GEM_LIMITS.dataBytes = 4 * 1024 * 1024;
    try {
      const big = gzipSync(tar([tarEntry('lib/big.rb', Buffer.alloc(8 * 1024 * 1024, 0x20))]), { level: 9 });
      expect(await refused(buildGem({ name: 'x', version: '1.0.0', dataTarGz: big }))).toMatch(/data.tar.gz expands to more than/);
    } finally {
      GEM_LIMITS.dataBytes = limit;
    }
    const aliases = `--- !ruby/object:Gem::Specification\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: x\n`;
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', metadataYaml: aliases }))).toMatch(/gemspec/);
  });

  it('refuses specs whose name, version or platform break RubyGems rules', async () => {
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', metadataYaml: gemspecYaml({ name: '../evil', version: '1.0.0' }) }))).toMatch(/not a valid gem name/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', metadataYaml: gemspecYaml({ name: 'x', version: '1.0 beta' }) }))).toMatch(/not a valid gem version/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', platform: '../x' }))).toMatch(/not a valid platform/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', metadataYaml: '- just\n- a list\n' }))).toMatch(/not a Gem::Specification/);
    expect(await refused(buildGem({ name: 'x', version: '1.0.0', metadataYaml: 'name: [unclosed\n' }))).toMatch(/not valid YAML/);
  });

  it('refuses a deploy whose spec disagrees with the file name, and a repush', async () => {
    const store = { exists: async (p: string) => p === 'gems/taken-1.0.0.gem' } as unknown as RepoStore;
    const repo = { key: 'g', rclass: 'local', packageType: 'gems' };
    const check = (path: string, content: Buffer) => gemsHandler.beforeDeploy!({ repo, path, content, store });
    await expect(check('gems/other-1.0.0.gem', buildGem({ name: 'real', version: '1.0.0' }))).rejects.toThrow(/real-1.0.0, which does not match the file name other-1.0.0.gem/);
    await expect(check('gems/real-1.0.1.gem', buildGem({ name: 'real', version: '1.0.0' }))).rejects.toThrow(/does not match/);
    await expect(check('gems/taken-1.0.0.gem', buildGem({ name: 'taken', version: '1.0.0' }))).rejects.toThrow(/Repushing/);
    await expect(check('versions', Buffer.from('x'))).rejects.toThrow(/maintains itself/);
    await expect(check('gems/real-1.0.0.gem', buildGem({ name: 'real', version: '1.0.0' }))).resolves.toBeUndefined();
  });
});

describe('readGem on damaged input', () => {
  it('answers every damaged gem with BAD_REQUEST or reads it, never another error', async () => {
    const good = buildGem({ name: 'fuzz', version: '1.0.0', dependencies: { rack: '>= 1' } });
    let seed = 17;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(good);
      for (let flips = 1 + random(8); flips > 0; flips--) bytes[random(bytes.length)] = random(256);
      const cut = random(4) === 0 ? bytes.subarray(0, random(bytes.length)) : bytes;
      try {
        await readGem(cut);
      } catch (err) {
        if (!isArcaError(err, 'BAD_REQUEST')) throw err;
      }
    }
  });
});

describe('names and versions', () => {
  it('checks names and versions as RubyGems does', () => {
    for (const n of ['rails', 'net-http', 'a_b.c', 'x1']) expect(isValidGemName(n)).toBe(true);
    for (const n of ['', '..', '.hidden', '-x', 'a/b', 'a b', 'ü']) expect(isValidGemName(n)).toBe(false);
    for (const v of ['1', '1.0.0', '2.0.0.rc1', '1.0.a']) expect(isValidGemVersion(v)).toBe(true);
    for (const v of ['', 'a', '1.0-rc', '1..0', '1.0 ']) expect(isValidGemVersion(v)).toBe(false);
  });

  it('orders versions as Gem::Version does', () => {
    expect(compareGemVersions('1.10.0', '1.9.0')).toBe(1);
    expect(compareGemVersions('1.0', '1.0.0')).toBe(0);
    expect(compareGemVersions('2.0.0.rc1', '2.0.0')).toBe(-1);
    expect(compareGemVersions('2.0.0.a', '2.0.0.b')).toBe(-1);
  });

  it('reads full names with dashes and digits in the name', () => {
    expect(fullNameCandidates('net-http-0.4.1')).toEqual([{ name: 'net-http', key: '0.4.1' }]);
    expect(fullNameCandidates('ffi-1.16.3-x86_64-linux')).toEqual([{ name: 'ffi', key: '1.16.3-x86_64-linux' }]);
    expect(fullNameCandidates('x-2-1.0')).toEqual([
      { name: 'x', key: '2-1.0' },
      { name: 'x-2', key: '1.0' },
    ]);
  });
});
