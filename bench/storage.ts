/**
 * `npm run bench -- --storage`: upload and download MB/s of one 256 MiB binary through Arca
 * for each binary provider, side by side in one run with the raw disk (cp, cat) and with the
 * backend's own SDK used directly (S3 on s3rver, Azure Blob on Azurite).
 *
 * Each provider gets its own Arca node (one worker) whose etc/binarystore.xml selects it;
 * curl uploads with PUT and downloads with GET. Everything is started on 127.0.0.1 in a temp
 * dir and stopped at the end.
 */
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzurite, AZURITE_ACCOUNT, AZURITE_KEY, type AzuriteServer } from '../test/helpers/azurite.js';
import { startS3rver, S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, type S3rverServer } from '../test/helpers/s3rver.js';
import { AUTH, createLocalRepo, startArca } from './lib/arca.js';
import { startBenchRun } from './lib/bench-run.js';
import { freePort } from './lib/http.js';
import { check, run, which } from './lib/proc.js';

const MIB = 1 << 20;
const SIZE = 256 * MIB;
const MB = 1e6;
const REPO = 'bench-storage';

function log(msg: string): void {
  process.stderr.write(`[bench --storage ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

interface Figures {
  upload?: number;
  download?: number;
  /** Arca only: a repeated GET (served by cache-fs where the chain has one). */
  cached?: number;
  error?: string;
}

interface Line {
  name: string;
  arca: Figures;
  reference: { name: string } & Figures;
}

function writeRandomFile(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(4 * MIB);
  for (let done = 0; done < bytes; done += buf.length) writeSync(fd, randomFillSync(buf), 0, Math.min(buf.length, bytes - done));
  closeSync(fd);
}

const mbps = (ms: number) => SIZE / MB / (ms / 1000);

/** Freshens the file, then runs `fn` (writing 16 bytes takes no measurable time). */
function freshenThen<T>(file: string, fn: () => Promise<T>): Promise<T> {
  freshen(file);
  return fn();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function best(reps: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < reps; i++) min = Math.min(min, await timed(fn));
  return mbps(min);
}

/** Gives the file new content (its first 16 bytes), so no store can skip work by deduplication. */
function freshen(file: string): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, randomFillSync(Buffer.alloc(16)), 0, 16, 0);
  closeSync(fd);
}

/**
 * One Arca node with the given binarystore.xml. Each rep uploads new content (curl -T) to a
 * new path; `download` is the first GET of each upload (from the backend: the cloud rows set
 * cache-fs skipDuringUpload), `cached` a repeated GET of one of them (cache-fs warm).
 */
async function measureArca(root: string, name: string, xml: string, file: string, reps: number): Promise<Figures> {
  const home = join(root, `home-${name}`);
  mkdirSync(join(home, 'etc'), { recursive: true });
  writeFileSync(join(home, 'etc', 'binarystore.xml'), xml);
  const node = await startArca({ home, port: await freePort(), workers: 1, logFile: join(root, `arca-${name}.log`), timeoutMs: 60_000 });
  const curl = async (what: string, args: string[]) => check(await run('curl', ['-sS', '-f', '-o', '/dev/null', '-H', `Authorization: ${AUTH}`, ...args], { timeoutMs: 300_000 }), what);
  try {
    await createLocalRepo(node, REPO);
    const up: number[] = [];
    for (let i = 0; i < reps; i++) {
      freshen(file);
      up.push(await timed(() => curl(`upload to ${name}`, ['-T', file, `${node.base}/${REPO}/big-${i}.bin`])));
    }
    const down: number[] = [];
    for (let i = 0; i < reps; i++) down.push(await timed(() => curl(`download from ${name}`, [`${node.base}/${REPO}/big-${i}.bin`])));
    const cached = await best(reps, () => curl(`download from ${name}`, [`${node.base}/${REPO}/big-0.bin`]));
    return { upload: mbps(Math.min(...up)), download: mbps(Math.min(...down)), cached };
  } catch (err) {
    log(`${name}: ${(err as Error).message}\n${node.logTail(15)}`);
    return { error: (err as Error).message.split('\n')[0] };
  } finally {
    await node.stop();
  }
}

async function measureRawDisk(root: string, file: string, reps: number): Promise<Figures> {
  const target = join(root, 'raw-copy.bin');
  const upload = await best(reps, async () => check(await run('sh', ['-c', `cp "${file}" "${target}" && sync "${target}"`], { timeoutMs: 300_000 }), 'cp'));
  const download = await best(reps, async () => check(await run('sh', ['-c', `cat "${target}" > /dev/null`], { timeoutMs: 300_000 }), 'cat'));
  rmSync(target, { force: true });
  return { upload, download };
}

async function measureS3Sdk(s3: S3rverServer, bucket: string, file: string, reps: number): Promise<Figures> {
  const client = s3.client();
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
    const upload = await best(reps, () => freshenThen(file, () => new Upload({ client, params: { Bucket: bucket, Key: 'sdk/big.bin', Body: createReadStream(file) }, partSize: 16 * MIB }).done()));
    const download = await best(reps, async () => {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk/big.bin' }));
      await pipeline(res.Body as NodeJS.ReadableStream, createWriteStream('/dev/null'));
    });
    return { upload, download };
  } finally {
    client.destroy();
  }
}

async function measureAzureSdk(az: AzuriteServer, container: string, file: string, reps: number): Promise<Figures> {
  const service = new BlobServiceClient(az.endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  const c = service.getContainerClient(container);
  await c.createIfNotExists();
  const blob = c.getBlockBlobClient('sdk/big.bin');
  const upload = await best(reps, () => freshenThen(file, () => blob.uploadStream(createReadStream(file), 8 * MIB, 4)));
  const download = await best(reps, async () => {
    const res = await blob.download();
    await pipeline(res.readableStreamBody!, createWriteStream('/dev/null'));
  });
  return { upload, download };
}

const xml = (chain: string, providers = '') => `<config version="2">\n  ${chain}\n${providers}</config>\n`;
/** cache-fs not filled by uploads: the first GET then comes from the cloud store. */
const COLD_CACHE = '  <provider id="cache-fs" type="cache-fs"><skipDuringUpload>true</skipDuringUpload></provider>\n';

function s3Provider(id: string, s3: S3rverServer, bucket: string): string {
  const port = new URL(s3.endpoint).port;
  return `  <provider id="${id}" type="s3-storage-v3">
    <endpoint>127.0.0.1</endpoint><port>${port}</port><useHttp>true</useHttp><enablePathStyleAccess>true</enablePathStyleAccess>
    <region>us-east-1</region><bucketName>${bucket}</bucketName>
    <identity>${S3RVER_ACCESS_KEY}</identity><credential>${S3RVER_SECRET_KEY}</credential>
  </provider>\n`;
}

function azureProvider(id: string, az: AzuriteServer, container: string): string {
  return `  <provider id="${id}" type="azure-blob-storage">
    <endpoint>${az.endpoint}</endpoint><accountName>${AZURITE_ACCOUNT}</accountName>
    <accountKey>${AZURITE_KEY}</accountKey><containerName>${container}</containerName>
  </provider>\n`;
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
}

function render(lines: Line[]): string {
  const head = ['provider', 'Arca up MB/s', 'Arca down MB/s', 'Arca cached down', 'reference', 'ref up MB/s', 'ref down MB/s', 'up %', 'down %'];
  const rows = lines.map((l) => [
    l.name,
    l.arca.error ? `ERROR: ${l.arca.error.slice(0, 60)}` : fmt(l.arca.upload),
    fmt(l.arca.download),
    fmt(l.arca.cached),
    l.reference.name,
    l.reference.error ? 'ERROR' : fmt(l.reference.upload),
    fmt(l.reference.download),
    l.arca.upload && l.reference.upload ? `${Math.round((100 * l.arca.upload) / l.reference.upload)}%` : '—',
    l.arca.download && l.reference.download ? `${Math.round((100 * l.arca.download) / l.reference.download)}%` : '—',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmtRow = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmtRow(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(fmtRow)].join('\n');
}

export async function runStorage(quick: boolean, tmpdir?: string): Promise<number> {
  for (const cmd of ['curl', 'cp', 'sync', 'sh']) if (!which(cmd)) throw new Error(`${cmd} is missing (apt-get install curl coreutils)`);
  const reps = quick ? 1 : 3;
  const { root, stopAll } = startBenchRun({ prefix: 'arca-bench-storage-', tmpdir, log });
  const file = join(root, 'blob-256m.bin');
  log(`writing a 256 MiB random file in ${root}`);
  writeRandomFile(file, SIZE);
  const lines: Line[] = [];
  const s3 = await startS3rver({ buckets: ['bench-sdk', 'bench-direct', 'bench-eventual'] });
  const az = await startAzurite();
  try {
    log('raw disk (cp + sync, cat)');
    const raw = await measureRawDisk(root, file, reps);
    log('S3 SDK on s3rver');
    const s3Sdk = await measureS3Sdk(s3, 'bench-sdk', file, reps).catch((e: Error) => ({ error: e.message }));
    log('Azure SDK on Azurite');
    const azSdk = await measureAzureSdk(az, 'bench-sdk', file, reps).catch((e: Error) => ({ error: e.message }));
    const cases: { name: string; xml: string; ref: { name: string } & Figures }[] = [
      { name: 'file-system', xml: xml('<chain template="file-system"/>'), ref: { name: 'raw disk', ...raw } },
      { name: 'cache-fs', xml: xml('<chain template="cache-fs"/>'), ref: { name: 'raw disk', ...raw } },
      { name: 's3-storage-v3-direct (s3rver)', xml: xml('<chain template="s3-storage-v3-direct"/>', s3Provider('s3-storage-v3', s3, 'bench-direct') + COLD_CACHE), ref: { name: 'S3 SDK → s3rver', ...s3Sdk } },
      { name: 's3-storage-v3 eventual (s3rver)', xml: xml('<chain template="s3-storage-v3"/>', s3Provider('s3-storage-v3', s3, 'bench-eventual') + COLD_CACHE), ref: { name: 'S3 SDK → s3rver', ...s3Sdk } },
      { name: 'azure-blob-storage-direct (Azurite)', xml: xml('<chain template="azure-blob-storage-direct"/>', azureProvider('azure-blob-storage', az, 'bench-direct') + COLD_CACHE), ref: { name: 'Azure SDK → Azurite', ...azSdk } },
    ];
    for (const c of cases) {
      log(`Arca on ${c.name}`);
      lines.push({ name: c.name, arca: await measureArca(root, c.name.split(' ')[0], c.xml, file, reps), reference: c.ref });
    }
  } finally {
    await s3.close();
    await az.close();
  }
  process.stdout.write(
    `\nStorage benchmark: a 256 MiB binary with new content per upload, best of ${reps}, MB/s = 10^6 bytes/s, curl through one Arca node (1 worker).\n` +
      `Arca down = the first GET of each upload (for the cloud rows cache-fs is not filled on upload, so it streams from the bucket; for eventual, from the staging copy until pushed);\n` +
      `cached = repeated GETs. Raw disk: cp + sync, and cat of the copy (page cache).\n\n${render(lines)}\n`,
  );
  stopAll();
  return lines.some((l) => l.arca.error) ? 1 : 0;
}
