/**
 * The `--scale` bulk loader: writes items, folders, properties and binaries straight into
 * Arca's database (one transaction per batch) and the binaries' files into the file-system
 * store, so that a repository of a million artifacts is there in minutes instead of hours of
 * deploys. The node must be stopped while it loads (its caches would not see the rows).
 *
 * Everything that knows the schema is in this file: `itemRow` (one row of `items`, built with
 * the code's own `pathKey`), `insertRows` (multi-row inserts; `json_populate_recordset` on
 * PostgreSQL, which takes the column types from the table itself) and `storeBinary`. A column
 * added to `items` with a default needs nothing here; one without a default goes in `itemRow`.
 *
 * The shape (see `layout.ts` for the paths): the generic repository grows in place, 50 files
 * per leaf folder three levels deep; every other file has a binary of its own, the rest share
 * 64; every tenth has two properties (`build.number`, `build.name`). An npm package of
 * 1,000 versions and a PyPI project of 1,000 files are loaded once.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.js';
import { orIgnore } from '../../src/db/dialect.js';
import { pathKey, type Db } from '../../src/db/items.js';
import type { Schema } from '../../src/db/schema.js';
import type { PackageDocument, VersionManifest } from '../../src/formats/npm/packument.js';
import {
  BUILD_NAME, BUILD_NUMBER, deleteFolder, DELETE_FOLDER_ITEMS, FILES_PER_FOLDER, fileName, folderOf, GENERIC, hasOwnBinary, hasProperties, leafFolder,
  NPM, NPM_PACKAGE, NPM_VERSIONS, PYPI, PYPI_PROJECT, PYPI_VERSIONS, SHARED_BINARIES, sharedContent, uniqueContent,
  BIG_IMAGE, BIG_IMAGE_TAGS, bigTag, digestFolderName, DOCKER, image, IMAGE_EVERY, searchPackage,
} from './layout.js';

/** Rows per statement and transaction (SQLite: 19 columns × 1,000 stays below its 32,766 parameters). */
const BATCH = 1000;
const PG_BATCH = 5000;
/** Loaded rows are two days old: older than any GC grace period. */
const AGE_MS = 2 * 24 * 3600 * 1000;
const USER = 'bench';

export interface Binary {
  sha1: string;
  sha256: string;
  md5: string;
  size: number;
}

type Row = Record<string, unknown>;

export function digestsOf(data: Buffer): Binary {
  const h = (alg: string) => createHash(alg).update(data).digest('hex');
  return { sha1: h('sha1'), sha256: h('sha256'), md5: h('md5'), size: data.length };
}

/** One `items` row; `binary` undefined for a folder. Every column the schema has without a default. */
function itemRow(repo: string, fullPath: string, binary: Binary | undefined, now: number, mime = 'application/octet-stream'): Row {
  const slash = fullPath.lastIndexOf('/');
  return {
    path_key: pathKey(repo, fullPath),
    repo,
    path: slash < 0 ? '' : fullPath.slice(0, slash),
    name: fullPath.slice(slash + 1),
    type: binary ? 'file' : 'folder',
    sha1: binary?.sha1 ?? null,
    sha256: binary?.sha256 ?? null,
    md5: binary?.md5 ?? null,
    size: binary?.size ?? 0,
    original_sha1: binary?.sha1 ?? null,
    original_sha256: binary?.sha256 ?? null,
    original_md5: binary?.md5 ?? null,
    mime_type: binary ? mime : null,
    created: now,
    created_by: USER,
    modified: now,
    modified_by: USER,
    updated: now,
  };
}

/**
 * Inserts rows into a table in one statement: on PostgreSQL one JSON parameter expanded by
 * `json_populate_recordset` (no parameter limit, types from the table), elsewhere a multi-row
 * insert. Returns `returning` columns of the inserted rows when asked (not on MySQL).
 */
async function insertRows(db: Database, trx: Db, table: keyof Schema, rows: Row[], opts: { returning?: string[]; ignoreKey?: string } = {}): Promise<Row[]> {
  if (rows.length === 0) return [];
  const cols = Object.keys(rows[0]);
  if (db.dialect === 'postgresql') {
    const list = sql.join(cols.map((c) => sql.ref(c)));
    const ignore = opts.ignoreKey ? sql` on conflict (${sql.ref(opts.ignoreKey)}) do nothing` : sql``;
    const ret = opts.returning ? sql` returning ${sql.join(opts.returning.map((c) => sql.ref(c)))}` : sql``;
    const res = await sql<Row>`insert into ${sql.table(table)} (${list}) select ${list} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::json)${ignore}${ret}`.execute(trx);
    return res.rows;
  }
  // One generic insert for every table: the rows are checked by the database, not the types.
  let q = trx.insertInto(table).values(rows as any) as any;
  if (opts.ignoreKey) q = orIgnore(trx, q, opts.ignoreKey);
  if (opts.returning && db.dialect !== 'mysql') return (await q.returning(opts.returning).execute()) as Row[];
  await q.execute();
  return [];
}

/**
 * Writes loaded rows, one transaction per batch: items (and, for those that carry some, their
 * properties, through the ids the insert returns) and binaries.
 */
class Batch {
  items: Row[] = [];
  folders: Row[] = [];
  props = new Map<string, [string, string][]>();
  binaries = new Map<string, Binary>();
  private readonly dirs = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly store: string,
    private readonly now: number,
  ) {}

  get size(): number {
    return this.db.dialect === 'postgresql' ? PG_BATCH : BATCH;
  }

  file(repo: string, fullPath: string, b: Binary, props?: [string, string][], mime?: string): void {
    const row = itemRow(repo, fullPath, b, this.now, mime);
    this.items.push(row);
    if (props) this.props.set(row.path_key as string, props);
  }

  folder(repo: string, fullPath: string): void {
    this.folders.push(itemRow(repo, fullPath, undefined, this.now));
  }

  /** A binary (its row goes in with the next flush) whose file is written now, if new. */
  binary(data: Buffer): Binary {
    const b = digestsOf(data);
    const dir = join(this.store, b.sha1.slice(0, 2));
    if (!this.dirs.has(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.dirs.add(dir);
    writeFileSync(join(dir, b.sha1), data, { mode: 0o600 });
    this.binaries.set(b.sha1, b);
    return b;
  }

  async flushIfFull(): Promise<void> {
    if (this.items.length + this.folders.length >= this.size) await this.flush();
  }

  async flush(): Promise<void> {
    const { items, folders, props } = this;
    const binaries = [...this.binaries.values()];
    this.items = [];
    this.folders = [];
    this.props = new Map();
    this.binaries = new Map();
    if (items.length === 0 && folders.length === 0 && binaries.length === 0) return;
    await this.db.db.transaction().execute(async (trx) => {
      // A crash loses the bench's database anyway: no need to wait for each commit's WAL flush.
      if (this.db.dialect === 'postgresql') await sql`set local synchronous_commit = off`.execute(trx);
      const bins = binaries.map((b) => ({ ...b, created: this.now }));
      for (let i = 0; i < bins.length; i += BATCH) await insertRows(this.db, trx, 'binaries', bins.slice(i, i + BATCH), { ignoreKey: 'sha1' });
      // A folder may exist already (grown into, or left by an earlier size).
      await insertRows(this.db, trx, 'items', folders, { ignoreKey: 'path_key' });
      const ids = await insertRows(this.db, trx, 'items', items, { returning: props.size > 0 ? ['id', 'path_key'] : undefined });
      if (props.size === 0) return;
      let byKey = ids;
      if (this.db.dialect === 'mysql') {
        byKey = await trx.selectFrom('items').select(['id', 'path_key']).where('path_key', 'in', [...props.keys()]).execute();
      }
      const propRows: Row[] = [];
      for (const r of byKey) for (const [k, v] of props.get(r.path_key as string) ?? []) propRows.push({ item_id: Number(r.id), prop_key: k, prop_value: v });
      for (let i = 0; i < propRows.length; i += BATCH) await insertRows(this.db, trx, 'item_props', propRows.slice(i, i + BATCH));
    });
  }
}

export interface Loader {
  /** Grows the generic repository from `from` to `to` files (indexes from..to-1). */
  grow(from: number, to: number, progress: (done: number) => void): Promise<void>;
  /** Folders of 500 files (10 × 50) for the delete measurement, under `del/s{tag}-{k}`. */
  deleteFolders(tag: string, count: number): Promise<void>;
  /** The npm package and the PyPI project (once). */
  packages(): Promise<void>;
  /** npm packages `from..to-1` (a document each) and the OCI images of those artifact indexes (see layout.ts). */
  formats(from: number, to: number): Promise<void>;
  shared: Binary[];
  /** The binary of file `i` (for checksum searches and GET checks). */
  binaryOf(i: number): Binary;
}

export function createLoader(db: Database, fileStore: string): Loader {
  const now = Date.now() - AGE_MS;
  const shared = Array.from({ length: SHARED_BINARIES }, (_, k) => digestsOf(sharedContent(k)));
  let sharedStored = false;
  const batch = () => {
    const b = new Batch(db, fileStore, now);
    if (!sharedStored) for (let k = 0; k < SHARED_BINARIES; k++) b.binary(sharedContent(k));
    sharedStored = true;
    return b;
  };
  const binaryOf = (i: number) => (hasOwnBinary(i) ? digestsOf(uniqueContent(i)) : shared[i % SHARED_BINARIES]);
  return {
    shared,
    binaryOf,
    async grow(from, to, progress) {
      const b = batch();
      for (let i = from; i < to; i++) {
        // Folders at their first file, and those of the first file loaded (they may exist: ignored then).
        if (i % FILES_PER_FOLDER === 0 || i === from) for (const f of folderOf(i)) if (i % f.every === 0 || i === from) b.folder(GENERIC, f.path);
        const own = hasOwnBinary(i);
        const bin = own ? b.binary(uniqueContent(i)) : shared[i % SHARED_BINARIES];
        const props: [string, string][] | undefined = hasProperties(i) ? [[BUILD_NUMBER, String(i)], [BUILD_NAME, leafFolder(i).split('/')[0]]] : undefined;
        b.file(GENERIC, `${leafFolder(i)}/${fileName(i)}`, bin, props);
        if (b.items.length + b.folders.length >= b.size) {
          await b.flush();
          progress(i + 1 - from);
        }
      }
      await b.flush();
      progress(to - from);
    },
    async deleteFolders(tag, count) {
      const b = batch();
      const perSub = FILES_PER_FOLDER;
      for (let k = 0; k < count; k++) {
        const top = deleteFolder(tag, k);
        b.folder(GENERIC, top.split('/')[0]);
        b.folder(GENERIC, top);
        for (let j = 0; j < DELETE_FOLDER_ITEMS / perSub; j++) {
          b.folder(GENERIC, `${top}/d${j}`);
          for (let n = 0; n < perSub; n++) b.file(GENERIC, `${top}/d${j}/del-${n}.bin`, shared[(j * perSub + n) % SHARED_BINARIES]);
        }
        await b.flushIfFull();
      }
      await b.flush();
    },
    async formats(from, to) {
      const b = batch();
      const iso = new Date(now).toISOString();
      if (from === 0) b.folder(NPM, '.npm');
      for (let i = from; i < to; i++) {
        const name = searchPackage(i);
        const doc: PackageDocument = {
          _id: name, _rev: '1-bench', name, 'dist-tags': { latest: '1.0.0' }, time: { created: iso, modified: iso, '1.0.0': iso }, maintainers: [{ name: 'admin', email: '' }],
          versions: {
            '1.0.0': {
              name, version: '1.0.0', description: `package ${i} of the scale bench`, keywords: ['scale', `k${i % 100}`], main: 'index.js', license: 'MIT',
              dist: { tarball: `${name}/-/${name}-1.0.0.tgz`, shasum: '0'.repeat(40), integrity: 'sha512-AAAA' },
            },
          },
        };
        b.folder(NPM, `.npm/${name}`);
        b.file(NPM, `.npm/${name}/package.json`, b.binary(Buffer.from(JSON.stringify(doc))), undefined, 'application/json');
        await b.flushIfFull();
      }
      // OCI: every manifest the same small binary (the listings read no content).
      const manifest = b.binary(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'));
      if (from === 0) {
        b.folder(DOCKER, BIG_IMAGE);
        for (let t = 0; t < BIG_IMAGE_TAGS; t++) {
          b.folder(DOCKER, `${BIG_IMAGE}/${bigTag(t)}`);
          b.file(DOCKER, `${BIG_IMAGE}/${bigTag(t)}/manifest.json`, manifest);
        }
      }
      for (let j = Math.ceil(from / IMAGE_EVERY); j < Math.ceil(to / IMAGE_EVERY); j++) {
        for (const [img, digest] of [[image(j), digestFolderName('image', j)], [BIG_IMAGE, digestFolderName('big', j)]]) {
          if (img !== BIG_IMAGE) {
            b.folder(DOCKER, img);
            b.folder(DOCKER, `${img}/v1`);
            b.file(DOCKER, `${img}/v1/manifest.json`, manifest);
          }
          b.folder(DOCKER, `${img}/${digest}`);
          b.file(DOCKER, `${img}/${digest}/manifest.json`, manifest);
        }
        await b.flushIfFull();
      }
      await b.flush();
    },
    async packages() {
      const b = batch();
      // npm: tarballs with their properties, and the package document that lists them all.
      const tarball = b.binary(Buffer.from('not a real tarball: the packument is what is measured\n'));
      const integrity = `sha512-${createHash('sha512').update('not a real tarball: the packument is what is measured\n').digest('base64')}`;
      const iso = new Date(now).toISOString();
      const doc: PackageDocument = { _id: NPM_PACKAGE, _rev: `${NPM_VERSIONS}-bench`, name: NPM_PACKAGE, 'dist-tags': {}, versions: {}, time: { created: iso, modified: iso }, maintainers: [{ name: 'admin', email: '' }] };
      for (const f of ['.npm', `.npm/${NPM_PACKAGE}`, NPM_PACKAGE, `${NPM_PACKAGE}/-`]) b.folder(NPM, f);
      for (let v = 0; v < NPM_VERSIONS; v++) {
        const version = `1.${Math.floor(v / 100)}.${v % 100}`;
        const path = `${NPM_PACKAGE}/-/${NPM_PACKAGE}-${version}.tgz`;
        const manifest: VersionManifest = {
          name: NPM_PACKAGE, version, description: 'a package of the scale bench', main: 'index.js', license: 'MIT',
          dependencies: { 'left-pad': '^1.3.0' }, dist: { tarball: path, shasum: tarball.sha1, integrity },
        };
        doc.versions[version] = manifest;
        doc.time[version] = iso;
        doc['dist-tags'].latest = version;
        b.file(NPM, path, tarball, [['npm.name', NPM_PACKAGE], ['npm.version', version]], 'application/x-gzip');
        await b.flushIfFull();
      }
      b.file(NPM, `.npm/${NPM_PACKAGE}/package.json`, b.binary(Buffer.from(JSON.stringify(doc))), undefined, 'application/json');
      // PyPI: a wheel and an sdist per version, with the properties an upload sets.
      const wheel = b.binary(Buffer.from('not a real wheel\n'));
      const sdist = b.binary(Buffer.from('not a real sdist\n'));
      b.folder(PYPI, PYPI_PROJECT);
      const dist = PYPI_PROJECT.replace(/-/g, '_');
      for (let v = 0; v < PYPI_VERSIONS; v++) {
        const version = `1.${Math.floor(v / 100)}.${v % 100}`;
        b.folder(PYPI, `${PYPI_PROJECT}/${version}`);
        const props: [string, string][] = [['pypi.name', PYPI_PROJECT], ['pypi.normalized.name', PYPI_PROJECT], ['pypi.version', version]];
        b.file(PYPI, `${PYPI_PROJECT}/${version}/${dist}-${version}-py3-none-any.whl`, wheel, props, 'application/zip');
        b.file(PYPI, `${PYPI_PROJECT}/${version}/${dist}-${version}.tar.gz`, sdist, props, 'application/x-gzip');
        await b.flushIfFull();
      }
      await b.flush();
    },
  };
}
