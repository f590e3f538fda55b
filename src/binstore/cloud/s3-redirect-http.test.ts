import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../../../test/helpers/credentials.js';
import { S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, startS3rver, type S3rverServer } from '../../../test/helpers/s3rver.js';
import { buildApp } from '../../http/app.js';
import { createNodeContext, type NodeContext } from '../../node/context.js';

/**
 * A node whose binarystore.xml is one s3-storage-v3 provider on a real s3rver, with signed
 * URL redirects on: a whole-file GET answers 302 to a presigned s3rver URL, and a client that
 * follows it (fetch, like curl -L) gets the bytes from s3rver without Arca's credentials.
 */
const BUCKET = 'arca-http';
let s3: S3rverServer;
let home: string;
let ctx: NodeContext;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  home = mkdtempSync(join(tmpdir(), 'arca-s3-redirect-'));
  mkdirSync(join(home, 'etc'), { recursive: true });
  writeFileSync(
    join(home, 'etc', 'binarystore.xml'),
    `<config version="2">
  <chain><provider id="s3-storage-v3" type="s3-storage-v3"/></chain>
  <provider id="s3-storage-v3" type="s3-storage-v3">
    <endpoint>${s3.endpoint}</endpoint>
    <bucketName>${BUCKET}</bucketName>
    <identity>${S3RVER_ACCESS_KEY}</identity>
    <credential>${S3RVER_SECRET_KEY}</credential>
    <enableSignedUrlRedirect>true</enableSignedUrlRedirect>
    <signedUrlExpirySeconds>60</signedUrlExpirySeconds>
    <presignedUrlMinSize>1024</presignedUrlMinSize>
  </provider>
</config>
`,
  );
  ctx = await createNodeContext({ home, env: { ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: 'redirect-node' }, logger: pino({ level: 'silent' }) });
  app = await buildApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  ctx.state.ready = true;
  await ctx.registry.setState('RUNNING');
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/artifactory`;
  const repo = await fetch(`${base}/api/repositories/gen-local`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
  });
  expect(repo.status).toBe(200);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await s3?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function deploy(path: string, data: Buffer): Promise<string> {
  const res = await fetch(`${base}/gen-local/${path}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: data });
  expect(res.status).toBe(201);
  return createHash('sha1').update(data).digest('hex');
}

describe('downloads redirected to presigned s3rver URLs', () => {
  it('answers a whole-file GET with 302 to s3rver, and the followed redirect returns the bytes', async () => {
    const data = randomBytes(300_000);
    const sha1 = await deploy('dir/big.bin', data);
    expect(existsSync(s3.objectFile(BUCKET, `filestore/${sha1.slice(0, 2)}/${sha1}`))).toBe(true);

    const manual = await fetch(`${base}/gen-local/dir/big.bin`, { headers: { authorization: ADMIN_AUTH }, redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('x-checksum-sha1')).toBe(sha1);
    const location = manual.headers.get('location')!;
    expect(location.startsWith(`${s3.endpoint}/${BUCKET}/filestore/${sha1.slice(0, 2)}/${sha1}?`)).toBe(true);
    expect(location).toContain('X-Amz-Signature=');

    // Like curl -L: the client follows to s3rver (fetch drops Authorization across origins).
    const followed = await fetch(`${base}/gen-local/dir/big.bin`, { headers: { authorization: ADMIN_AUTH } });
    expect(followed.status).toBe(200);
    expect(followed.url.startsWith(s3.endpoint)).toBe(true);
    expect(Buffer.from(await followed.arrayBuffer()).equals(data)).toBe(true);
  });

  it('still serves ranges, HEAD and files below presignedUrlMinSize itself', async () => {
    const data = randomBytes(200_000);
    await deploy('ranged.bin', data);
    const ranged = await fetch(`${base}/gen-local/ranged.bin`, { headers: { authorization: ADMIN_AUTH, range: 'bytes=1000-1999' }, redirect: 'manual' });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(1000, 2000))).toBe(true);
    const head = await fetch(`${base}/gen-local/ranged.bin`, { method: 'HEAD', headers: { authorization: ADMIN_AUTH }, redirect: 'manual' });
    expect(head.status).toBe(200);
    expect(head.headers.get('location')).toBeNull();

    const small = randomBytes(1000);
    await deploy('small.bin', small);
    const res = await fetch(`${base}/gen-local/small.bin`, { headers: { authorization: ADMIN_AUTH }, redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(small)).toBe(true);
  });

  it('checks read permission before redirecting', async () => {
    await deploy('secret.bin', randomBytes(5000));
    const anonymous = await fetch(`${base}/gen-local/secret.bin`, { redirect: 'manual' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('location')).toBeNull();
  });
});
