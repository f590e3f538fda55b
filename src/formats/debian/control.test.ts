import { describe, expect, it } from 'vitest';
import { packagesStanza, parseControl, parseParagraphs, validVersion } from './control.js';

const CONTROL = `Package: hello
Version: 2.10-3
Architecture: amd64
Maintainer: Santiago Vila <sanvila@debian.org>
Installed-Size: 280
Depends: libc6 (>= 2.34)
Section: devel
Priority: optional
Homepage: https://www.gnu.org/software/hello/
Description: example package based on GNU hello
 The GNU hello program produces a familiar, friendly greeting.
 .
 Seriously, though: this is an example.
`;

describe('Debian control files', () => {
  it('reads a control file as dpkg writes it and makes the Packages stanza', () => {
    const c = parseControl(CONTROL);
    expect(c).toMatchObject({ package: 'hello', version: '2.10-3', architecture: 'amd64' });
    const stanza = packagesStanza(c, { filename: 'pool/main/h/hello/hello_2.10-3_amd64.deb', size: 53012, md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) });
    expect(stanza).toBe(`Package: hello
Version: 2.10-3
Architecture: amd64
Maintainer: Santiago Vila <sanvila@debian.org>
Installed-Size: 280
Depends: libc6 (>= 2.34)
Section: devel
Priority: optional
Homepage: https://www.gnu.org/software/hello/
Filename: pool/main/h/hello/hello_2.10-3_amd64.deb
Size: 53012
MD5sum: ${'a'.repeat(32)}
SHA1: ${'b'.repeat(40)}
SHA256: ${'c'.repeat(64)}
Description: example package based on GNU hello
 The GNU hello program produces a familiar, friendly greeting.
 .
 Seriously, though: this is an example.`);
    expect(parseParagraphs(`${stanza}\n\n${stanza}\n`)).toHaveLength(2);
  });

  it('checks versions as Debian Policy §5.6.12 does', () => {
    for (const v of ['1.0', '1:2.3-4', '2.10-3', '1.0~rc1', '1.0+dfsg-1ubuntu0.1', '0', '1.2-3-4']) expect(validVersion(v), v).toBe(true);
    for (const v of ['', 'a1.0', '1.0-', '1.0-!', '1:a', 'x:1.0', '1.0 2', '1.2:3', ':1', '1:1.2:3-4']) expect(validVersion(v), v).toBe(false);
  });

  it.each([
    ['a missing field', CONTROL.replace(/^Maintainer:.*\n/m, ''), /Maintainer/],
    ['an empty description', CONTROL.replace(/^Description:[\s\S]*$/m, 'Description:\n'), /Description/],
    ['a bad name', CONTROL.replace('Package: hello', 'Package: Hello_World'), /package name/],
    ['a bad version', CONTROL.replace('Version: 2.10-3', 'Version: two'), /Debian version/],
    ['two architectures', CONTROL.replace('Architecture: amd64', 'Architecture: amd64 i386'), /single architecture/],
    ['a duplicate field', `${CONTROL}Section: x\n`, /twice/],
    ['two paragraphs', `${CONTROL}\nPackage: other\n`, /paragraphs/],
    ['garbage', 'this is not a control file', /not a field/],
    ['a continuation first', ' leading\nPackage: x\n', /continuation/],
  ])('refuses %s with a 400', (_what, text, message) => {
    expect(() => parseControl(text)).toThrow(message);
    try {
      parseControl(text);
    } catch (err) {
      expect((err as { code: string }).code).toBe('BAD_REQUEST');
    }
  });
});
