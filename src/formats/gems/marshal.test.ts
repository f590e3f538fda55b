import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { gunzipSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseGemspec } from './gem-file.js';
import { gemspecYaml } from '../../../test/helpers/gems-fixtures.js';
import { parseVersions, quickSpec, specsFile } from './index-files.js';
import { gemVersion, marshalDump, rubyTime, sym } from './marshal.js';

/** The Marshal writer, checked byte for byte against Ruby's own Marshal.dump and read back by Marshal.load. */

const ruby = existsSync('/usr/bin/ruby') ? '/usr/bin/ruby' : undefined;
if (!ruby) console.warn('[skip] no /usr/bin/ruby: the Marshal output is not checked against Ruby');

function rubyRun(script: string, input?: Buffer): Buffer {
  return execFileSync(ruby!, ['-e', `require 'rubygems'; ${script}`], { input, env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' } });
}

describe('marshal writer (no Ruby needed)', () => {
  it('writes the Marshal 4.8 header, small and large fixnums', () => {
    expect(marshalDump(null)).toEqual(Buffer.from([4, 8, 0x30]));
    expect(marshalDump(0)).toEqual(Buffer.from([4, 8, 0x69, 0]));
    expect(marshalDump(1)).toEqual(Buffer.from([4, 8, 0x69, 6]));
    expect(marshalDump(-1)).toEqual(Buffer.from([4, 8, 0x69, 0xfa]));
    expect(marshalDump(300)).toEqual(Buffer.from([4, 8, 0x69, 2, 0x2c, 0x01]));
    expect(() => marshalDump(2 ** 31)).toThrow(RangeError);
  });

  it('writes a Gem::Version as Ruby does', () => {
    // Marshal.dump(Gem::Version.new('1.0.0'))
    expect(marshalDump(gemVersion('1.0.0')).toString('latin1')).toBe('\x04\x08U:\x11Gem::Version[\x06I"\x0a1.0.0\x06:\x06ET');
  });
});

describe.skipIf(!ruby)('marshal writer against Ruby', () => {
  it('matches Marshal.dump byte for byte', () => {
    const ints = [0, 1, 4, 122, 123, 124, 255, 256, 65535, 65536, 2 ** 24, 2 ** 30 - 1, -1, -4, -123, -124, -125, -256, -257, -65536, -65537, -(2 ** 30)];
    const value = [ints, 'a', 'héllo', null, true, false, sym('runtime'), { kind: 'hash' as const, entries: [['k', 'v'] as [string, string]] }];
    const expected = rubyRun(`STDOUT.binmode.write Marshal.dump([[${ints.join(',')}], 'a', 'héllo', nil, true, false, :runtime, {'k' => 'v'}])`);
    expect(marshalDump(value).equals(expected)).toBe(true);
  });

  it('writes a Time that Ruby reads back', () => {
    const at = Date.UTC(2024, 4, 6, 13, 59, 58, 123);
    const out = rubyRun('t = Marshal.load(STDIN.binmode.read); print t.utc.strftime("%Y-%m-%dT%H:%M:%S.%L")', marshalDump(rubyTime(at)));
    expect(out.toString()).toBe('2024-05-06T13:59:58.123');
  });

  it('writes quick specs that load as a Gem::Specification', () => {
    const spec = parseGemspec(gemspecYaml({ name: 'quick-gem', version: '1.2.0', platform: 'x86_64-linux', dependencies: { rack: '>= 2.0, < 4' } }));
    const script = `s = Marshal.load(STDIN.binmode.read); print [s.class, s.name, s.version.to_s, s.platform.to_s, s.full_name, s.dependencies.map(&:to_s).join(';'), s.required_ruby_version.to_s, s.summary].join('|')`;
    const out = rubyRun(script, inflateSync(quickSpec(spec, 0)));
    expect(out.toString()).toBe('Gem::Specification|quick-gem|1.2.0|x86_64-linux|quick-gem-1.2.0-x86_64-linux|rack (>= 2.0, < 4)|>= 2.0|A gem for tests');
  });

  it('writes specs.4.8.gz, latest and prerelease specs as Ruby reads them', () => {
    const index = parseVersions('created_at: 2024-01-01T00:00:00Z\n---\na 1.0.0,1.10.0,1.2.0,2.0.0.rc1 x\nb 0.1.0,0.1.0-java y\na -1.2.0 z\n');
    const load = (kind: 'specs' | 'latest_specs' | 'prerelease_specs') =>
      rubyRun('print Marshal.load(STDIN.binmode.read).map { |n, v, p| [n, v.class, v.to_s, p].join(" ") }.join(";")', gunzipSync(specsFile(index, kind))).toString();
    expect(load('specs')).toBe('a Gem::Version 1.0.0 ruby;a Gem::Version 1.10.0 ruby;b Gem::Version 0.1.0 java;b Gem::Version 0.1.0 ruby');
    expect(load('latest_specs')).toBe('a Gem::Version 1.10.0 ruby;b Gem::Version 0.1.0 java;b Gem::Version 0.1.0 ruby');
    expect(load('prerelease_specs')).toBe('a Gem::Version 2.0.0.rc1 ruby');
  });
});
