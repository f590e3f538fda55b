/**
 * The ChartMuseum upload form (`multipart/form-data` with a `chart` and/or a `prov` file
 * field, as `helm cm-push` sends it), read from a body already held in memory within the
 * upload limit. Only the parts' names and bodies matter; anything malformed is a BAD_REQUEST.
 */
import { ArcaError } from '../../core/errors.js';

function malformed(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `Malformed multipart/form-data: ${message}`);
}

/** Most parts read from one form. */
const MAX_PARTS = 16;

/** The boundary of a `multipart/form-data` Content-Type; undefined for any other type. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  if (!m) throw malformed('no boundary in the Content-Type');
  return m[1] ?? m[2];
}

/** The form's parts by field name (the first part of a name wins). */
export function parseForm(body: Buffer, boundary: string): Map<string, Buffer> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts = new Map<string, Buffer>();
  let at = body.indexOf(delimiter);
  if (at < 0) throw malformed('the boundary never appears');
  let count = 0;
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString('latin1') === '--') return parts;
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n') throw malformed('a boundary line does not end with CRLF');
    at += 2;
    if (++count > MAX_PARTS) throw malformed(`more than ${MAX_PARTS} parts`);
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0 || headEnd - at > 16 * 1024) throw malformed('a part has no end to its headers');
    const headers = body.subarray(at, headEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4);
    if (next < 0) throw malformed('the body ends inside a part');
    const disposition = headers.split('\r\n').find((h) => /^content-disposition\s*:/i.test(h));
    const name = disposition ? /;\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(disposition) : null;
    if (!name) throw malformed('a part has no Content-Disposition name');
    const field = name[1] ?? name[2];
    if (!parts.has(field)) parts.set(field, body.subarray(headEnd + 4, next));
    at = next + 2;
  }
}
