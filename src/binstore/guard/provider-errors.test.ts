import { describe, expect, it } from 'vitest';
import { ArcaError } from '../../core/errors.js';
import { isTransientError, normaliseProviderError, providerOf } from './provider-errors.js';

const ref = { id: 'cache-fs', type: 'cache-fs' };
const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
const http = (status: number) => Object.assign(new Error(`HTTP ${status}`), { $metadata: { httpStatusCode: status } });

describe('normalising a provider error', () => {
  it('keeps what retry and eventual decide: transient stays transient, an answer stays an answer', () => {
    const raw = [
      ...['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EIO', 'EBUSY', 'EACCES', 'EPERM', 'EROFS', 'ESTALE', 'UND_ERR_SOCKET'].map(errno),
      errno('ENOENT'),
      http(500),
      http(503),
      http(408),
      http(429),
      http(403),
      http(404),
      Object.assign(new Error('Conflict'), { statusCode: 409 }),
      new TypeError('bug'),
      new RangeError('bug'),
      new Error('something else'),
      'a string',
      new ArcaError('UNAVAILABLE', 'down'),
      new ArcaError('ITEM_NOT_FOUND', 'absent'),
      new ArcaError('CHECKSUM_MISMATCH', 'bad'),
    ];
    for (const err of raw) {
      for (const op of ['read', 'stage', 'commit', 'delete']) {
        const { error } = normaliseProviderError(err, ref, op, 'a'.repeat(40));
        expect(isTransientError(error), `${String(err)} (${op})`).toBe(isTransientError(err));
        expect(error, `${String(err)} (${op})`).toBeInstanceOf(ArcaError);
        expect(providerOf(error)).toBe('cache-fs');
      }
    }
  });

  it('maps ENOENT to ITEM_NOT_FOUND only for lookups of a key, and a full disk to STORAGE_FULL', () => {
    const sha1 = 'b'.repeat(40);
    expect(normaliseProviderError(errno('ENOENT'), ref, 'read', sha1).error).toMatchObject({ code: 'ITEM_NOT_FOUND', message: `Binary ${sha1} is missing from provider 'cache-fs' (cache-fs)` });
    expect(normaliseProviderError(errno('ENOENT'), ref, 'stage').error).toMatchObject({ code: 'INTERNAL' });
    expect(normaliseProviderError(errno('ENOENT'), ref, 'stage').unexpected).toBe(true);
    expect(normaliseProviderError(errno('ENOSPC'), ref, 'commit').error).toMatchObject({ code: 'STORAGE_FULL' });
    expect(normaliseProviderError(errno('EDQUOT'), ref, 'commit').error).toMatchObject({ code: 'STORAGE_FULL' });
  });

  it('stamps once: an error stamped by an inner provider, or of an ArcaError subclass, passes unchanged', () => {
    class Special extends ArcaError {}
    const special = new Special('CONFLICT', 'special');
    expect(normaliseProviderError(special, ref, 'read').error).toBe(special);
    const inner = normaliseProviderError(errno('ECONNRESET'), { id: 's3', type: 's3-storage-v3' }, 'read').error;
    expect(normaliseProviderError(inner, ref, 'read').error).toBe(inner);
    const plain = new ArcaError('UNAVAILABLE', 'down', { retryAfter: 3 });
    const stamped = normaliseProviderError(plain, ref, 'read').error as ArcaError;
    expect(stamped).not.toBe(plain);
    expect(stamped).toMatchObject({ code: 'UNAVAILABLE', message: 'down', details: { retryAfter: 3, provider: 'cache-fs', providerType: 'cache-fs' }, cause: plain });
    expect(providerOf(plain)).toBeUndefined();
  });

  it('passes an abort on as the caller\'s', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(normaliseProviderError(abort, ref, 'stage')).toEqual({ error: abort, unexpected: false });
  });
});
