import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { boolParam, intParam, optionalSizeParam, parseSize, sizeParam } from './params.js';
import type { ProviderNode } from './types.js';

const node = (params: Record<string, string>): ProviderNode => ({ id: 'eventual-1', type: 'eventual', params, explicit: Object.keys(params), subProviders: [] });
const element = 'binarystore.xml: <provider id="eventual-1" type="eventual">';

describe('provider parameters', () => {
  it('reads whole numbers with a minimum; empty takes the fallback', () => {
    expect(intParam(node({ n: ' 42 ' }), 'n', 7)).toBe(42);
    expect(intParam(node({ n: '' }), 'n', 7)).toBe(7);
    expect(intParam(node({}), 'n', 7)).toBe(7);
    expect(intParam(node({ n: '1e3' }), 'n', 7)).toBe(1000);
    for (const bad of ['many', '2.5', '-1', '5GB']) {
      expect(() => intParam(node({ n: bad }), 'n', 7), bad).toThrow(new ConfigError(`${element}: n must be a whole number of at least 0, got '${bad}'`, 'INVALID_CONFIG'));
    }
    expect(() => intParam(node({ n: '0' }), 'n', 7, 1)).toThrow(new ConfigError(`${element}: n must be a whole number of at least 1, got '0'`, 'INVALID_CONFIG'));
  });

  it('reads sizes as the seed and the Helm chart write them', () => {
    expect(parseSize('5000000000')).toBe(5_000_000_000);
    expect(parseSize('5e+10')).toBe(50_000_000_000);
    expect(parseSize('5GB')).toBe(5_000_000_000);
    expect(parseSize('1.5 kb')).toBe(1500);
    expect(parseSize('5 parsecs')).toBeUndefined();
    expect(sizeParam(node({ s: '5KB' }), 's', 1)).toBe(5000);
    expect(sizeParam(node({}), 's', 1)).toBe(1);
    expect(optionalSizeParam(node({}), 's')).toBeUndefined();
    expect(() => sizeParam(node({ s: 'huge' }), 's', 1)).toThrow(`${element}: s must be a size in bytes`);
  });

  it('reads booleans strictly', () => {
    expect(boolParam(node({ b: 'TRUE' }), 'b', false)).toBe(true);
    expect(boolParam(node({ b: 'false' }), 'b', true)).toBe(false);
    expect(boolParam(node({}), 'b', true)).toBe(true);
    expect(() => boolParam(node({ b: 'maybe' }), 'b', true)).toThrow(`${element}: b must be true or false, got 'maybe'`);
  });

  it('fails with a ConfigError that carries the catalogue code', () => {
    const err = (() => {
      try {
        intParam(node({ n: 'x' }), 'n', 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
