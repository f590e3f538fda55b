import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { ObjectKeys } from './object-keys.js';
import { CloudParams } from './cloud-params.js';

const SHA1 = 'f572d396fae9206628714fb2ce00f72e94f2258f';

describe('object keys', () => {
  it('maps a SHA-1 to <path>/<prefix>/<sha1> and back, for every folder length', () => {
    for (let n = 0; n <= 5; n++) {
      const keys = new ObjectKeys('/filestore/', n);
      const key = keys.keyOf(SHA1);
      expect(key).toBe(n === 0 ? `filestore/${SHA1}` : `filestore/${SHA1.slice(0, n)}/${SHA1}`);
      expect(keys.sha1Of(key)).toBe(SHA1);
    }
    expect(new ObjectKeys('', 2).keyOf(SHA1)).toBe(`f5/${SHA1}`);
  });

  it('ignores keys that are not binaries of the layout', () => {
    const keys = new ObjectKeys('filestore', 2);
    for (const k of [`filestore/f6/${SHA1}`, `filestore/${SHA1}`, `other/f5/${SHA1}`, 'filestore/f5/readme', `filestore/f5/x/${SHA1}`, `filestore/.arca-check-1`, `filestore/F5/${SHA1.toUpperCase()}`]) {
      expect(keys.sha1Of(k)).toBeUndefined();
    }
  });

  it('refuses non-SHA-1 names and bad settings', () => {
    expect(() => new ObjectKeys('filestore', 2).keyOf('../../etc/passwd')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => new ObjectKeys('filestore', 6)).toThrow(/from 0 to 5/);
    expect(() => new ObjectKeys('a/../b', 2)).toThrow(/'\.\.'/);
  });
});

describe('cloud parameters', () => {
  const node = (params: Record<string, string>) => ({ id: 's3', type: 's3-storage-v3', params, explicit: Object.keys(params), subProviders: [] });

  it('names the provider element in errors', () => {
    const p = new CloudParams(node({ rootFoldersNameLength: '9', useHttp: 'yes' }));
    expect(() => p.int('rootFoldersNameLength', 2, 0, 5)).toThrow(new ConfigError('binarystore.xml: <provider id="s3" type="s3-storage-v3">: rootFoldersNameLength must be an integer from 0 to 5, not \'9\''));
    expect(() => p.bool('useHttp', false)).toThrow(/<provider id="s3" type="s3-storage-v3">: useHttp must be true or false, not 'yes'/);
    expect(() => p.required('bucketName')).toThrow(/bucketName is required/);
  });

  it('treats an empty element as unset, except where empty is a value (text)', () => {
    const p = new CloudParams(node({ port: '', path: '' }));
    expect(p.str('port', '9000')).toBe('9000');
    expect(p.text('path', 'filestore')).toBe('');
    expect(p.text('missing', 'filestore')).toBe('filestore');
  });
});
