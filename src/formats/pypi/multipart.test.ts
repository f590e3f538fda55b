import { describe, expect, it } from 'vitest';
import { isArcaError } from '../../core/errors.js';
import { multipartBody } from '../../../test/helpers/pypi-fixtures.js';
import { MultipartReader, multipartBoundary, parseHeaderParams } from './multipart.js';

async function* chunks(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readAll(body: Buffer, boundary: string, size: number) {
  const reader = new MultipartReader(chunks(body, size), boundary);
  const out: { name: string; filename?: string; value: Buffer }[] = [];
  for (let part = await reader.next(); part; part = await reader.next()) {
    const bufs: Buffer[] = [];
    for await (const c of reader.bodyChunks()) bufs.push(c);
    out.push({ name: part.name, filename: part.filename, value: Buffer.concat(bufs) });
  }
  return out;
}

describe('multipart/form-data reader', () => {
  const content = Buffer.concat([Buffer.from('\r\n--not-the-boundary\r\n'), Buffer.alloc(70_000, 7), Buffer.from('\r\n-')]);
  const { body, contentType } = multipartBody({ fields: [['name', 'Friendly-Bard'], [':action', 'file_upload'], ['empty', '']], filename: 'x-1.0.tar.gz', content }, 'BoUnDaRy123');

  it('finds the boundary in the Content-Type', () => {
    expect(multipartBoundary(contentType)).toBe('BoUnDaRy123');
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="quoted b"')).toBe('quoted b');
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary('multipart/form-data')).toBeUndefined();
  });

  it('reads fields and a file byte-exact, whatever the chunk size', async () => {
    for (const size of [1, 3, 17, 4096, 1 << 20]) {
      const parts = await readAll(body, 'BoUnDaRy123', size);
      expect(parts.map((p) => p.name)).toEqual(['name', ':action', 'empty', 'content']);
      expect(parts[0].value.toString()).toBe('Friendly-Bard');
      expect(parts[2].value.length).toBe(0);
      expect(parts[3].filename).toBe('x-1.0.tar.gz');
      expect(parts[3].value.equals(content)).toBe(true);
    }
  });

  it('skips a preamble and parts the caller does not read', async () => {
    const withPreamble = Buffer.concat([Buffer.from('ignored preamble\r\n'), body]);
    const reader = new MultipartReader(chunks(withPreamble, 10), 'BoUnDaRy123');
    const names: string[] = [];
    for (let part = await reader.next(); part; part = await reader.next()) names.push(part.name);
    expect(names).toEqual(['name', ':action', 'empty', 'content']);
  });

  it('decodes quoted and RFC 2231 parameters', () => {
    const p = parseHeaderParams(` name="a \\"b\\""; filename="plain.whl"; filename*=UTF-8''na%C3%AFve-1.0.tar.gz`);
    expect(p.get('name')).toBe('a "b"');
    expect(p.get('filename')).toBe('naïve-1.0.tar.gz');
  });

  it('refuses truncated or malformed bodies with a 400 error', async () => {
    const cases: [Buffer, RegExp][] = [
      [body.subarray(0, body.length - 40), /ends inside a part/],
      [Buffer.from('no boundary here at all'), /holds no multipart boundary/],
      [Buffer.from('--BoUnDaRy123\r\nX-Other: 1\r\n\r\nv\r\n--BoUnDaRy123--'), /no Content-Disposition/],
      [Buffer.from('--BoUnDaRy123\r\nContent-Disposition: form-data\r\n\r\nv\r\n--BoUnDaRy123--'), /no field name/],
      [Buffer.concat([Buffer.from('--BoUnDaRy123\r\n'), Buffer.alloc(20_000, 65)]), /headers are longer/],
    ];
    for (const [data, why] of cases) {
      const err = await readAll(data, 'BoUnDaRy123', 1000).then(() => undefined, (e: unknown) => e);
      expect(isArcaError(err, 'BAD_REQUEST'), String(why)).toBe(true);
      expect((err as Error).message).toMatch(why);
    }
  });

  it('limits the size of a text field', async () => {
    const reader = new MultipartReader(chunks(body, 100), 'BoUnDaRy123');
    await reader.next();
    await expect(reader.text(5)).rejects.toThrow(/longer than 5 bytes/);
  });
});
