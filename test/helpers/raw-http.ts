import http from 'node:http';
import { ADMIN_AUTH } from './credentials.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json(): any;
}

export interface RawRequest {
  method?: string;
  /** Sent exactly as given: no normalisation of `..` or percent-encoding. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Omit the default admin Authorization header. */
  anonymous?: boolean;
}

/** One HTTP request with the path sent verbatim (fetch would normalise traversal away). */
export function raw(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...(req.anonymous ? {} : { authorization: ADMIN_AUTH }), ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const r = http.request({ host: url.hostname, port: url.port, method: req.method ?? 'GET', path: req.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: () => body.toString('utf8'),
          json: () => JSON.parse(body.toString('utf8')),
        });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/**
 * Starts an upload whose body the caller feeds chunk by chunk, to test slow, aborted and
 * overlapping uploads.
 */
export function streamingUpload(baseUrl: string, path: string, headers: Record<string, string> = {}) {
  const url = new URL(baseUrl);
  const request = http.request({
    host: url.hostname,
    port: url.port,
    method: 'PUT',
    path,
    headers: { authorization: ADMIN_AUTH, 'transfer-encoding': 'chunked', ...headers },
    agent: false,
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: () => body.toString(), json: () => JSON.parse(body.toString()) });
      });
    });
    request.on('error', reject);
  });
  response.catch(() => undefined);
  return {
    write: (chunk: Buffer) => new Promise<void>((resolve) => (request.write(chunk) ? resolve() : request.once('drain', () => resolve()))),
    end: () => {
      request.end();
      return response;
    },
    abort: () => request.destroy(),
    response,
  };
}
