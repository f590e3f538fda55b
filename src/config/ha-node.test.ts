import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadHaNodeProperties, matchesInterfacePattern, pickInterfaceAddress } from './ha-node.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arca-ha-node-'));
  file = join(dir, 'ha-node.properties');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string, mode = 0o644) {
  writeFileSync(file, text);
  chmodSync(file, mode);
}

describe('ha-node.properties', () => {
  it('reads the seed example, trims the context URL and takes the first word of hazelcast.interface', () => {
    write(`node.id=art1
context.url=http://10.0.0.121:8081/artifactory/
membership.port=10001
primary=true
artifactory.ha.data.dir=/mnt/shared/artifactory/ha-data
artifactory.ha.backup.dir=/mnt/shared/artifactory/ha-backup
hazelcast.interface=192.168.0.2 (optional)
`);
    const loaded = loadHaNodeProperties(file)!;
    expect(loaded.props).toEqual({
      nodeId: 'art1',
      contextUrl: 'http://10.0.0.121:8081/artifactory',
      membershipPort: 10001,
      primary: true,
      haDataDir: '/mnt/shared/artifactory/ha-data',
      haBackupDir: '/mnt/shared/artifactory/ha-backup',
      hazelcastInterface: '192.168.0.2',
    });
    expect(loaded.warnings).toEqual([]);
  });

  it('accepts `:` and space separators, continuations and doubled backslashes of Windows paths', () => {
    write('node.id: art2\ncontext.url http://h:8081/artifactory\nartifactory.ha.data.dir = \\\\\\\\windows\\\\UNC\\\\path\\\\\\\n    ha-data\n');
    const p = loadHaNodeProperties(file)!.props;
    expect(p).toMatchObject({ nodeId: 'art2', contextUrl: 'http://h:8081/artifactory', membershipPort: 0, primary: false });
    expect(p.haDataDir).toBe('\\\\windows\\UNC\\path\\ha-data');
  });

  it('warns when the mode is not 644 and about unknown keys', () => {
    write('node.id=a\ncontext.url=http://h/artifactory\nnode.idd=typo\n', 0o600);
    const { warnings } = loadHaNodeProperties(file)!;
    expect(warnings.some((w) => w.includes('mode 600') && w.includes('644'))).toBe(true);
    expect(warnings.some((w) => w.includes("unknown key 'node.idd'"))).toBe(true);
  });

  it.each([
    ['context.url=http://h/artifactory\n', /node.id is required/],
    ['node.id=a\n', /context.url is required/],
    ['node.id=a\ncontext.url=ftp://h\n', /not an http\(s\) URL/],
    ['node.id=a\ncontext.url=http://h\nmembership.port=70000\n', /membership.port/],
    ['node.id=a\ncontext.url=http://h\nprimary=yes\n', /primary must be true or false/],
    ['node.id=bad id\ncontext.url=http://h\n', /node.id 'bad id'/],
  ])('refuses %j', (text, error) => {
    write(text);
    expect(() => loadHaNodeProperties(file)).toThrow(error);
  });

  it('is absent when the file is', () => {
    expect(loadHaNodeProperties(join(dir, 'none.properties'))).toBeUndefined();
  });
});

describe('hazelcast.interface patterns', () => {
  it.each([
    ['10.1.*.*', '10.1.2.22', true],
    ['10.1.*.*', '10.2.2.22', false],
    ['10.1.*', '10.1.3.33', true],
    ['10.1.2.*', '10.1.3.33', false],
    ['10.1.2-4.*', '10.1.3.33', true],
    ['192.168.0.2', '192.168.0.2', true],
    ['192.168.0.2', '192.168.0.20', false],
    ['::1', '::1', true],
  ])('%s vs %s → %s', (pattern, address, expected) => {
    expect(matchesInterfacePattern(pattern, address)).toBe(expected);
  });

  it('picks the local address a pattern selects', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [{ address: '10.1.2.22', family: 'IPv4', internal: false }],
    } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
    expect(pickInterfaceAddress('10.1.*.*', ifaces)).toBe('10.1.2.22');
    expect(pickInterfaceAddress('172.16.*.*', ifaces)).toBeUndefined();
    expect(pickInterfaceAddress('127.0.0.*')).toBe('127.0.0.1');
  });
});
