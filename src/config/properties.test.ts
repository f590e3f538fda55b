import { describe, expect, it } from 'vitest';
import { formatProperties, parseProperties } from './properties.js';

describe('Java properties parser', () => {
  it('reads the seed ha-node.properties example', () => {
    const p = parseProperties(`node.id=art1
context.url=http://10.0.0.121:8081/artifactory
membership.port=10001
primary=true
artifactory.ha.data.dir=/mnt/shared/artifactory/ha-data
`);
    expect(Object.fromEntries(p)).toEqual({
      'node.id': 'art1',
      'context.url': 'http://10.0.0.121:8081/artifactory',
      'membership.port': '10001',
      primary: 'true',
      'artifactory.ha.data.dir': '/mnt/shared/artifactory/ha-data',
    });
  });

  it('handles comments, all three separators and surrounding whitespace', () => {
    const p = parseProperties(`# comment
! also a comment
   a = 1
b:2
c 3
d\t=\t4
e
f=
`);
    expect(Object.fromEntries(p)).toEqual({ a: '1', b: '2', c: '3', d: '4', e: '', f: '' });
  });

  it('decodes escapes, doubled backslashes and unicode', () => {
    const p = parseProperties('win=\\\\\\\\server\\\\share\\\\ha-data\nkey\\ with\\=odd\\:chars=v\ntab=a\\tb\nuni=\\u00e9t\\u00E9\nplain=C:\\path');
    expect(p.get('win')).toBe('\\\\server\\share\\ha-data');
    expect(p.get('key with=odd:chars')).toBe('v');
    expect(p.get('tab')).toBe('a\tb');
    expect(p.get('uni')).toBe('été');
    expect(p.get('plain')).toBe('C:path');
  });

  it('joins continuation lines and keeps an even number of backslashes literal', () => {
    const p = parseProperties('list=a,\\\n    b,\\\n    c\nliteral=ends\\\\\nnext=1\r\ncrlf=2\r');
    expect(p.get('list')).toBe('a,b,c');
    expect(p.get('literal')).toBe('ends\\');
    expect(p.get('next')).toBe('1');
    expect(p.get('crlf')).toBe('2');
  });

  it('lets the last duplicate win and rejects a malformed \\u escape', () => {
    expect(parseProperties('a=1\na=2').get('a')).toBe('2');
    expect(() => parseProperties('a=\\u12')).toThrow(/Malformed/);
  });

  it('round-trips through formatProperties', () => {
    const entries: [string, string][] = [['a key', 'C:\\x\\y'], ['k=v', ' lead'], ['n', 'line\nbreak']];
    expect([...parseProperties(formatProperties(entries, 'header'))]).toEqual(entries);
  });
});
