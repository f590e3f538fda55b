import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { EmulatorProcess } from './emulator-process.js';
import { freePort } from './ports.js';

/** The access key pair s3rver accepts (its built-in dummy account). */
export const S3RVER_ACCESS_KEY = 'S3RVER';
export const S3RVER_SECRET_KEY = 'S3RVER';

export interface S3rverServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Where s3rver keeps buckets: `<dir>/<bucket>/<key>._S3rver_object`. */
  dir: string;
  /** The file s3rver stores an object's bytes in. */
  objectFile(bucket: string, key: string): string;
  /** Kills the process; the data directory and port stay reserved for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it and removes the data directory. */
  close(): Promise<void>;
  /**
   * An SDK client for this server (path-style, its dummy account). Checksums only when the
   * operation requires them: the SDK's default trailing checksums corrupt s3rver's streamed uploads.
   */
  client(): S3Client;
}

const require = createRequire(import.meta.url);

/** A real s3rver in a child process on a free 127.0.0.1 port, storing into a temp dir. */
export async function startS3rver(opts: { buckets?: string[] } = {}): Promise<S3rverServer> {
  const dir = mkdtempSync(join(tmpdir(), 'arca-s3rver-'));
  const port = await freePort();
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers
  // through its legacy provider: without it every second page is a 500.
  const args = ['--openssl-legacy-provider', bin, '--directory', dir, '--address', '127.0.0.1', '--port', String(port), '--silent'];
  for (const b of opts.buckets ?? []) args.push('--configure-bucket', b);
  const proc = new EmulatorProcess('s3rver', process.execPath, args, port);
  await proc.start();
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    dir,
    objectFile: (bucket, key) => {
      const parts = key.split('/');
      const last = parts.pop()!;
      return join(dir, bucket, ...parts, `${last}._S3rver_object`);
    },
    client: () =>
      new S3Client({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: S3RVER_ACCESS_KEY, secretAccessKey: S3RVER_SECRET_KEY },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    stop: () => proc.stop(),
    start: () => proc.start(),
    close: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
