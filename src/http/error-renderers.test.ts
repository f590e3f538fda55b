import { describe, expect, it } from 'vitest';
import { ArcaError } from '../core/errors.js';
import { OciError } from '../formats/oci/oci-errors.js';
import { pypiRenderer } from '../formats/pypi/routes/pypi-errors.js';
import { npmRenderer } from '../formats/npm/routes/npm-errors.js';
import { ociRenderer } from '../formats/oci/routes/oci-errors.js';
import { mapError } from './error-mapper.js';
import { jfrogRenderer } from './error-renderers.js';

const notFound = mapError(new ArcaError('ITEM_NOT_FOUND', "Could not find resource 'generic-local/a.txt'"));

describe('error renderers', () => {
  it('JFrog: {errors:[{status,message}]} as JSON', () => {
    const out = jfrogRenderer.render(notFound);
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(out.body)).toEqual({ errors: [{ status: 404, message: "Could not find resource 'generic-local/a.txt'" }] });
    expect(out.headers).toBeUndefined();
  });

  it('npm: {error} as JSON', () => {
    const out = npmRenderer.render(notFound);
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(out.body)).toEqual({ error: "Could not find resource 'generic-local/a.txt'" });
  });

  it('PyPI: the message as text and as a printable reason phrase of at most 300 characters', () => {
    const out = pypiRenderer.render(mapError(new ArcaError('BAD_REQUEST', `bad\r\nname é ${'x'.repeat(400)}`)));
    expect(out.contentType).toBe('text/plain; charset=utf-8');
    expect(out.body).toBe(`bad\r\nname é ${'x'.repeat(400)}\n`);
    expect(out.reason).toHaveLength(300);
    expect(out.reason).toMatch(/^bad {2}name {3}x+$/);
  });

  it("OCI: an OciError's own code and detail, with the registry's version header", () => {
    const err = new OciError('MANIFEST_UNKNOWN', "Manifest 'v9' is not in 'img'", { detail: { reference: 'v9' } });
    const out = ociRenderer.render(mapError(err));
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(out.body)).toEqual({ errors: [{ code: 'MANIFEST_UNKNOWN', message: "Manifest 'v9' is not in 'img'", detail: { reference: 'v9' } }] });
    expect(out.headers).toEqual({ 'Docker-Distribution-API-Version': 'registry/2.0' });
  });

  it.each([
    [new ArcaError('FORBIDDEN', 'no'), 'DENIED'],
    [new ArcaError('LOCKED_OUT', 'locked', { retryAfter: 1 }), 'UNAUTHORIZED'],
    [new ArcaError('REPO_NOT_FOUND', 'no repo'), 'NAME_UNKNOWN'],
    [new ArcaError('CHECKSUM_MISMATCH', 'differs'), 'DIGEST_INVALID'],
    [new ArcaError('STORAGE_FULL', 'full'), 'UNKNOWN'],
    [Object.assign(new Error('Request body is too large'), { statusCode: 413 }), 'SIZE_INVALID'],
    [Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }), 'UNSUPPORTED'],
    [new Error('boom'), 'UNKNOWN'],
  ])('OCI: %s from shared code becomes %s, without detail', (err, code) => {
    const body = JSON.parse(ociRenderer.render(mapError(err)).body);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].code).toBe(code);
    expect(body.errors[0]).not.toHaveProperty('detail');
  });
});
