import { describe, expect, it } from 'vitest';
import { OciError } from './oci-errors.js';
import { isValidName, isValidTag, lookupReference, parseDigest, parseReference, splitName } from './reference.js';

const HEX64 = 'a'.repeat(64);

describe('OCI names, tags and digests', () => {
  it('accepts the name grammar and refuses the rest', () => {
    for (const ok of ['app', 'a/b/c', 'my-app', 'my__app', 'my.app', 'a--b', 'library/ubuntu', '0x/1']) expect(isValidName(ok), ok).toBe(true);
    for (const bad of ['', 'App', 'a//b', '-a', 'a-', 'a_', '_a', 'a/', '/a', 'a___b', 'a..b', 'a:b', 'x'.repeat(256)]) expect(isValidName(bad), bad).toBe(false);
  });

  it('accepts tags of up to 128 characters that do not start with . or -', () => {
    for (const ok of ['latest', 'v1.0.0', '_hidden', 'A-b_c.d', 'x'.repeat(128)]) expect(isValidTag(ok), ok).toBe(true);
    for (const bad of ['', '.x', '-x', 'a:b', 'a/b', 'x'.repeat(129)]) expect(isValidTag(bad), bad).toBe(false);
  });

  it('parses sha256 and sha512 digests and names what is wrong with others', () => {
    expect(parseDigest(`sha256:${HEX64}`)).toEqual({ algorithm: 'sha256', hex: HEX64, text: `sha256:${HEX64}` });
    expect(parseDigest(`sha512:${'b'.repeat(128)}`).algorithm).toBe('sha512');
    const code = (v: string | undefined) => {
      try {
        parseDigest(v);
        return 'ok';
      } catch (err) {
        return `${(err as OciError).ociCode} ${(err as OciError).message}`;
      }
    };
    expect(code(undefined)).toMatch(/^DIGEST_INVALID A digest is required/);
    expect(code('sha256:abc')).toMatch(/^DIGEST_INVALID .*64 lower-case hex/);
    expect(code(`sha256:${'A'.repeat(64)}`)).toMatch(/^DIGEST_INVALID/);
    expect(code(`md5:${'a'.repeat(32)}`)).toMatch(/^DIGEST_INVALID Digest algorithm 'md5' is not supported/);
    expect(code('nocolon')).toMatch(/^DIGEST_INVALID .*not a digest/);
  });

  it('tells tags from digests in a manifest reference', () => {
    expect(parseReference('v1')).toEqual({ kind: 'tag', tag: 'v1' });
    expect(parseReference(`sha256:${HEX64}`).kind).toBe('digest');
    expect(() => parseReference('.bad')).toThrow(/not a valid tag/);
    expect(() => parseReference('sha256:short')).toThrow(OciError);
  });

  it('looks up only references that can name a manifest', () => {
    expect(lookupReference('v1')).toEqual({ kind: 'tag', tag: 'v1' });
    expect(lookupReference(`sha256:${HEX64}`)?.kind).toBe('digest');
    for (const bad of ['.bad', 'sha256:short', `md5:${'a'.repeat(32)}`, '', 'a/b', 'x'.repeat(129)]) expect(lookupReference(bad)).toBeUndefined();
  });

  it('splits a /v2/ name into the repository key and the image', () => {
    expect(splitName('docker-local/team/app')).toEqual({ repoKey: 'docker-local', image: 'team/app' });
    expect(() => splitName('docker-local')).toThrow(/<repository-key>\/<image>/);
    expect(() => splitName('docker-local/')).toThrow(OciError);
  });
});
