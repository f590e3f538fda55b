import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { md5Hex, multipartBody, sha256Hex, twineFields, wheelFilename, writeSdist, writeWheel } from '../../../test/helpers/pypi-fixtures.js';
import { MultipartReader } from './multipart.js';
import { PROPERTY, receiveLegacyUpload, type UploadTarget } from './upload.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-upload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeWheel(join(dir, 'w.whl'), { name: 'Friendly.Bard', version: '1.0', requiresPython: '>=3.8', summary: 'Hi' });
const wheel = readFileSync(join(dir, 'w.whl'));
const wheelName = wheelFilename('Friendly.Bard', '1.0');
writeSdist(join(dir, 's.tar.gz'), 'Friendly.Bard', '1.0');
const sdist = readFileSync(join(dir, 's.tar.gz'));

async function* chunks(data: Buffer, size = 1000) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Runs an upload with a store that consumes the body like the content store does. */
async function upload(fields: [string, string][], filename: string, content: Buffer, contentFirst = false) {
  const { body, contentType } = multipartBody({ fields, filename, content, contentFirst });
  const reader = new MultipartReader(chunks(body), contentType.split('boundary=')[1]);
  let stored: Buffer | undefined;
  let seenTarget: UploadTarget | undefined;
  const out = await receiveLegacyUpload(reader, async (target, data) => {
    seenTarget = target;
    const bufs: Buffer[] = [];
    for await (const c of data) bufs.push(c);
    stored = Buffer.concat(bufs);
    return 'ok';
  });
  expect(out.target).toBe(seenTarget);
  return { ...out, stored };
}

const failure = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);

describe('legacy upload (twine form)', () => {
  it('stores a wheel at {project}/{version}/{file} with its METADATA, digests and properties', async () => {
    const { target, stored } = await upload(twineFields('Friendly.Bard', '1.0', wheel, 'bdist_wheel', [['requires_python', '>=3.7']]), wheelName, wheel);
    expect(stored!.equals(wheel)).toBe(true);
    expect(target.path).toBe(`friendly-bard/1.0/${wheelName}`);
    expect(target.expected).toEqual({ sha256: sha256Hex(wheel), md5: md5Hex(wheel) });
    expect(target.metadata!.toString()).toContain('Name: Friendly.Bard');
    expect(target.properties).toEqual({
      [PROPERTY.name]: ['Friendly.Bard'],
      [PROPERTY.normalizedName]: ['friendly-bard'],
      [PROPERTY.version]: ['1.0'],
      [PROPERTY.summary]: ['A tiny package for tests'],
      // METADATA wins over the form field
      [PROPERTY.requiresPython]: ['>=3.8'],
      [PROPERTY.metadataSha256]: [sha256Hex(target.metadata!)],
    });
  });

  it('stores an sdist; fields may follow the content part', async () => {
    const { target, stored } = await upload(twineFields('friendly-bard', '1.0', sdist, 'sdist'), 'Friendly.Bard-1.0.tar.gz', sdist, true);
    expect(stored!.equals(sdist)).toBe(true);
    expect(target.path).toBe('friendly-bard/1.0/Friendly.Bard-1.0.tar.gz');
    expect(target.metadata).toBeUndefined();
    expect(target.expected.sha256).toBe(sha256Hex(sdist));
  });

  it('refuses bad input with a clear message', async () => {
    const ok = twineFields('Friendly.Bard', '1.0', wheel, 'bdist_wheel');
    const set = (k: string, v: string) => ok.map(([a, b]): [string, string] => [a, a === k ? v : b]);
    const without = (k: string) => ok.filter(([a]) => a !== k);
    expect(await failure(upload(ok, 'friendly_bard-1.0.whl', wheel))).toMatch(/Invalid distribution file name: .*expected \{name\}-\{version\}/);
    expect(await failure(upload(ok, 'friendly_bard-1.0-py3-none-any.egg', wheel))).toMatch(/Invalid distribution file name/);
    expect(await failure(upload(set('name', 'other'), wheelName, wheel))).toMatch(/belongs to project 'Friendly_Bard', but the upload names project 'other'/);
    expect(await failure(upload(set('version', '2.0'), wheelName, wheel))).toMatch(/has version '1.0', but the upload names version '2.0'/);
    expect(await failure(upload(set('version', '2.0'), wheelName, wheel, true))).toMatch(/upload names version '2.0'/);
    expect(await failure(upload(set('filetype', 'sdist'), wheelName, wheel))).toMatch(/filetype 'sdist' does not match/);
    expect(await failure(upload(set(':action', 'submit'), wheelName, wheel))).toMatch(/Unsupported :action 'submit'/);
    expect(await failure(upload(without(':action'), wheelName, wheel))).toMatch(/no :action/);
    expect(await failure(upload(without('name'), wheelName, wheel))).toMatch(/no name field/);
    expect(await failure(upload(set('sha256_digest', 'abc'), wheelName, wheel))).toMatch(/sha256_digest must be 64 hexadecimal digits/);
    expect(await failure(upload(ok, wheelName, sdist))).toMatch(/not a valid wheel: the file is not a zip archive/);
    expect(await failure(upload(twineFields('friendly-bard', '1.0', wheel, 'sdist'), 'friendly_bard-1.0.tar.gz', wheel))).toMatch(/content is not a gzip file/);
    expect(await failure(upload(ok, '../../etc/friendly_bard-1.0-py3-none-any.whl', wheel))).toMatch(/characters a distribution file name cannot have/);
  });

  it('refuses a form without content, or with two', async () => {
    const { body, contentType } = multipartBody({ fields: [[':action', 'file_upload'], ['name', 'a'], ['version', '1']], filename: 'a-1.tar.gz', content: sdist });
    const noContent = Buffer.from(body.toString('latin1').replace('name="content"', 'name="other"'), 'latin1');
    const run = (data: Buffer) => receiveLegacyUpload(new MultipartReader(chunks(data), contentType.split('boundary=')[1]), async (_t, b) => {
      for await (const _ of b) void _;
    });
    expect(await failure(run(noContent))).toMatch(/no content part/);
    const boundary = contentType.split('boundary=')[1];
    const twice = Buffer.concat([body.subarray(0, body.length - `--${boundary}--\r\n`.length), body.subarray(body.indexOf(`--${boundary}\r\nContent-Disposition: form-data; name="content"`))]);
    expect(await failure(run(twice))).toMatch(/more than one content part/);
  });
});
