import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * An https front for a plain-http Arca, with a test CA made by openssl: the go command sends
 * `.netrc` credentials over https only (and refuses credentials in an http GOPROXY URL), so
 * the Go e2e test reaches the server through this. Requests and answers pass through
 * unchanged, bodies streamed.
 */
export interface TlsFront {
  /** `https://127.0.0.1:<port>`: the origin in front of `target`. */
  origin: string;
  /** The test CA's certificate (PEM), for SSL_CERT_FILE. */
  caFile: string;
  close(): Promise<void>;
}

/** Writes a CA and a server certificate for 127.0.0.1 into `dir`. */
function makeCertificates(dir: string): { key: Buffer; cert: Buffer; caFile: string } {
  const at = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=Arca Go e2e CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '2', '-extfile', at('server.ext')]);
  return { key: readFileSync(at('server.key')), cert: readFileSync(at('server.pem')), caFile: at('ca.pem') };
}

/** Starts an https server on 127.0.0.1 that forwards every request to `target` (`http://host:port`). */
export async function startTlsFront(target: string, dir: string): Promise<TlsFront> {
  const { key, cert, caFile } = makeCertificates(dir);
  const upstream = new URL(target);
  const server: Server = createServer({ key, cert }, (req, res) => {
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    caFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
