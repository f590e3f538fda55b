import { errorCodes } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ArcaError, ConfigError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { OciError } from '../formats/oci/oci-errors.js';
import { INTERNAL_MESSAGE, mapError, REALM, STATUS_BY_CODE } from './error-mapper.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('mapError', () => {
  it.each(CODES.filter((c) => c !== 'MISCONFIGURED'))('answers an ArcaError %s with its status, code and own message', (code) => {
    const mapped = mapError(new ArcaError(code, `the ${code} message`));
    expect(mapped).toMatchObject({ status: STATUS_BY_CODE[code], code, message: `the ${code} message`, internal: false });
    expect(mapped.status).toBeGreaterThanOrEqual(400);
  });

  it('challenges a 401 with the Basic realm, except for a page script', () => {
    expect(mapError(new ArcaError('UNAUTHORIZED')).headers).toEqual({ 'WWW-Authenticate': REALM });
    expect(mapError(new ArcaError('UNAUTHORIZED'), { xhr: true }).headers).toEqual({});
    expect(mapError(new ArcaError('FORBIDDEN')).headers).toEqual({});
  });

  it('sends Retry-After for an error that carries retryAfter, with the challenge of a lock', () => {
    const locked = mapError(new ArcaError('LOCKED_OUT', 'locked; retry in 4 s', { retryAfter: 4 }));
    expect(locked).toMatchObject({ status: 401, code: 'LOCKED_OUT', headers: { 'Retry-After': '4', 'WWW-Authenticate': REALM } });
    expect(mapError(new ArcaError('UNAVAILABLE', 'draining', { retryAfter: 30 })).headers).toEqual({ 'Retry-After': '30' });
    // Only a number of seconds is a Retry-After.
    expect(mapError(new ArcaError('UNAVAILABLE', 'draining', { retryAfter: 'soon' })).headers).toEqual({});
  });

  it('answers an OciError by its catalogue code, which the OCI code or an override chooses', () => {
    expect(mapError(new OciError('MANIFEST_UNKNOWN'))).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'manifest unknown to registry' });
    expect(mapError(new OciError('DENIED', 'no'))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(mapError(new OciError('UNSUPPORTED', 'no'))).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
    expect(mapError(new OciError('BLOB_UPLOAD_INVALID', 'out of order', { code: 'RANGE_NOT_SATISFIABLE' }))).toMatchObject({ status: 416 });
    expect(mapError(new OciError('SIZE_INVALID', 'too big', { code: 'PAYLOAD_TOO_LARGE' }))).toMatchObject({ status: 413 });
  });

  it("keeps the status and message of Fastify's client errors", () => {
    const tooLarge = mapError(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    expect(tooLarge).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large', internal: false });
    const validation = mapError(new errorCodes.FST_ERR_VALIDATION('body must have property name'));
    expect(validation).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'body must have property name' });
    const badUrl = mapError(new errorCodes.FST_ERR_BAD_URL('%zz'));
    expect(badUrl).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: "'%zz' is not a valid url component" });
  });

  it('names bad JSON as such, whichever parser raised it', () => {
    expect(mapError(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY()).message).toBe(
      "Invalid JSON body: Body is not valid JSON but content-type is set to 'application/json'",
    );
    const syntax = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), { statusCode: 400 });
    expect(mapError(syntax)).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'Invalid JSON body: Unexpected token } in JSON at position 9' });
  });

  it.each([
    ['an Error', new Error('db password is hunter2')],
    ['a server error from a library', Object.assign(new Error('boom'), { statusCode: 503 })],
    ['an "error" with a success status', Object.assign(new Error('odd'), { statusCode: 200 })],
    ['a string', 'thrown text'],
    ['undefined', undefined],
    ['null', null],
  ])('answers %s as an internal error without its details', (_what, err) => {
    expect(mapError(err)).toEqual({ status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE, headers: {}, internal: true, error: err });
  });

  it("answers a ConfigError (a node's own configuration) as an internal error: its message names the node's files", () => {
    const err = new ConfigError('/home/arca/etc/system.yaml: bad key');
    expect(err).toBeInstanceOf(ArcaError);
    expect(err.code).toBe('MISCONFIGURED');
    expect(err.name).toBe('ConfigError');
    expect(mapError(err)).toMatchObject({ status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE, internal: true });
  });

  it("answers an error raised before routing as the client's, with its message", () => {
    expect(mapError(Object.assign(new Error('odd url'), { statusCode: 500 }), { beforeRouting: true })).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'odd url',
      internal: false,
    });
    expect(mapError(new errorCodes.FST_ERR_BAD_URL('%zz'), { beforeRouting: true }).status).toBe(400);
  });
});
