import { describe, expect, it } from 'vitest';
import { compareVersions, sortVersions } from './maven-version.js';

describe('Maven version order', () => {
  it('orders qualifiers as Maven does, aliases included', () => {
    expect(sortVersions(['1.0', '1.0-alpha-1', '1.0-b1', '1.0-rc1', '1.0-SNAPSHOT', '1.0-sp1'])).toEqual(['1.0-alpha-1', '1.0-b1', '1.0-rc1', '1.0-SNAPSHOT', '1.0', '1.0-sp1']);
    expect(compareVersions('1.0-ga', '1.0')).toBe(0);
  });

  it("compares qualifiers named like Object's members as plain strings", () => {
    expect(() => sortVersions(['1.0-constructor', '1.0-__proto__', '1.0-toString', '1.0'])).not.toThrow();
    expect(compareVersions('1.0-constructor', '1.0-constructor')).toBe(0);
    expect(Math.sign(compareVersions('1.0-constructor', '1.0-toString'))).toBe(-Math.sign(compareVersions('1.0-toString', '1.0-constructor')));
  });
});
