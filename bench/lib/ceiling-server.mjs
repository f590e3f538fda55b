// The runtime's ceiling for (a): node:http serving one file from memory, nothing else (no
// routing, no authentication, no database), on as many cluster workers as Arca runs.
// Usage: node ceiling-server.mjs <port> <workers> <file>
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [port, workers, file] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const body = readFileSync(file);
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) };
  http
    .createServer({ keepAliveTimeout: 65_000 }, (_request, response) => {
      response.writeHead(200, headers);
      response.end(body);
    })
    .listen(port, '127.0.0.1');
}
