/**
 * `jf rt …` commands replayed request by request, in the order and with the headers and bodies
 * jfrog-client-go (and jfrog-cli-artifactory's command layer) sends them. One `Cli` is one
 * configured CLI; each method is one command run. Requests go one at a time (the CLI runs 3
 * threads; the order within a step is not part of the contract, the order of steps is).
 *
 * Extension points for the build commands are in build-commands.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { aqlBodyForPattern, aqlQuery, relativePath, type FileSpec, type RequiredProps, type ResultItem } from './aql.js';
import { addProps, encodeProps, parseProps } from './props.js';
import { encodeQuery, escapePath, expectStatus, queryEscape, type Wire } from './wire.js';

/** JFROG_CLI_MIN_CHECKSUM_DEPLOY_SIZE_KB's default: files of 10 KiB and more try a checksum deploy first. */
export const MIN_CHECKSUM_DEPLOY = 10 * 1024;
/** The upload service's MinSplitSize default: only files this big ask about multipart uploads. */
export const MIN_MULTIPART_SIZE = 200 * 1024 * 1024;

export interface UploadOptions {
  /** Local wildcard pattern relative to `cwd`, e.g. `build/*.jar` or `dist/` */
  pattern: string;
  /** `repo/path/` (a trailing slash: into that folder) */
  target: string;
  cwd: string;
  props?: string;
  flat?: boolean;
  recursive?: boolean;
  /** `--sync-deletes <repo/path/>` */
  syncDeletes?: string;
  /** `--build-name`/`--build-number`: build props on every file (build-commands.ts adds the publish). */
  build?: { name: string; number: string; timestamp: string };
  /** `--explode`: X-Explode-Archive on the PUT, no checksum deploy. */
  explode?: boolean;
}

export interface UploadedFile {
  local: string;
  target: string;
  checksumDeployed: boolean;
  status: number;
}

export interface SearchResult {
  path: string;
  type: string;
  size: number;
  created: string;
  modified: string;
  sha1: string;
  sha256: string;
  md5: string;
  props: Record<string, string[]>;
}

const sha = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');

/** Local files matching an upload pattern: `*` is any run of characters (also across folders, as in the CLI's regexp). */
function collectLocal(cwd: string, pattern: string, recursive: boolean): string[] {
  const pat = pattern.endsWith('/') ? pattern + '*' : pattern;
  const star = pat.indexOf('*');
  const root = star < 0 ? pat : pat.slice(0, pat.lastIndexOf('/', star) + 1);
  const re = new RegExp('^' + pat.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of readdirSync(join(cwd, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (recursive || depth === 0) walk(rel, depth + 1);
      } else if (re.test(rel) && (recursive || !rel.slice(root.length).includes('/'))) out.push(rel);
    }
  };
  if (star < 0) return existsSync(join(cwd, pat)) && statSync(join(cwd, pat)).isFile() ? [pat] : [];
  walk(root.replace(/\/$/, ''), 0);
  return out.sort();
}

export class Cli {
  constructor(readonly wire: Wire) {}

  /** `GET api/system/version`: the services that check the server version (search, download, props) ask once per run. */
  async version(): Promise<string> {
    const r = await this.wire.send('GET', 'api/system/version');
    expectStatus(r, [200], 'GET api/system/version');
    return r.json<{ version: string }>().version;
  }

  /** The usage report the CLI sends for each command it runs (in the background; failures ignored by the CLI). */
  async reportUsage(featureId: string): Promise<number> {
    const body = JSON.stringify({ productId: 'jfrog-cli-go/2.71.0', features: [{ featureId, uniqueClientId: 'replay-client-id' }] });
    const r = await this.wire.send('POST', 'api/system/usage', { headers: { 'Content-Type': 'application/json' }, body });
    return r.status;
  }

  /** `GET api/v1/uploads/config`: asked before a multipart upload (files ≥ 200 MiB only). */
  async multipartSupported(): Promise<boolean> {
    const r = await this.wire.send('GET', 'api/v1/uploads/config');
    expectStatus(r, [200], 'GET api/v1/uploads/config');
    return r.json<{ supported?: boolean }>().supported === true;
  }

  /** `POST api/search/aql` with the query as the raw body (no Content-Type, as Go's client sends it). */
  async aql(query: string): Promise<ResultItem[]> {
    const r = await this.wire.send('POST', 'api/search/aql', { body: query });
    expectStatus(r, [200], `AQL ${query}`);
    return r.json<{ results: ResultItem[] }>().results;
  }

  /**
   * SearchBySpecWithPattern: one AQL with the properties inline; with sort or limit the
   * properties cannot be included, so a second query (all props, or the symlink ones) fetches them.
   */
  async searchBySpec(spec: FileSpec, required: RequiredProps): Promise<ResultItem[]> {
    const body = aqlBodyForPattern(spec);
    const items = await this.aql(aqlQuery(spec, required, body));
    const inline = !spec.sortBy?.length && !(spec.limit && spec.limit > 0);
    if (inline || required === 'NONE') return items;
    const key = required === 'ALL' ? '*' : 'symlink.dest';
    const withProps = await this.aql(
      `items.find({"$and":[${body},{"$or":[{"@${key}":{"$match":"*"}}]}]}).include("name","repo","path","actual_md5","actual_sha1","sha256","size","property")`,
    );
    const props = new Map(withProps.map((i) => [relativePath(i), i.properties]));
    return items.map((i) => (props.get(relativePath(i)) ? { ...i, properties: props.get(relativePath(i)) } : i));
  }

  // ---- upload ------------------------------------------------------------------------------

  /** `jf rt upload <pattern> <target> [--props] [--flat] [--recursive] [--sync-deletes] [--build-name --build-number] [--explode]` */
  async upload(o: UploadOptions): Promise<{ files: UploadedFile[]; deleted: string[] }> {
    await this.reportUsage('rt_upload');
    let targetProps = o.props ?? '';
    // --sync-deletes: every file of this run is marked, whatever is not marked is deleted after.
    const syncProp = o.syncDeletes ? `sync.deletes.timestamp=${Date.now()}` : '';
    if (syncProp) targetProps = addProps(targetProps, syncProp);
    const buildProps = o.build ? `build.name=${o.build.name};build.number=${o.build.number};build.timestamp=${o.build.timestamp}` : '';
    const files: UploadedFile[] = [];
    for (const local of collectLocal(o.cwd, o.pattern, o.recursive ?? true)) {
      let target = o.target;
      if (target.endsWith('/')) target += o.flat ? local.split('/').pop()! : local;
      files.push(await this.uploadFile(join(o.cwd, local), local, target, targetProps, buildProps, o.explode ?? false));
    }
    const deleted = o.syncDeletes ? await this.deleteRun({ pattern: o.syncDeletes, excludeProps: syncProp, recursive: true }) : [];
    return { files, deleted };
  }

  private async uploadFile(path: string, local: string, target: string, props: string, buildProps: string, explode: boolean): Promise<UploadedFile> {
    const data = readFileSync(path);
    let url = escapePath(target);
    const encodedTarget = encodeProps(parseProps(props), false);
    if (encodedTarget) url += ';' + encodedTarget;
    const encodedBuild = encodeProps(parseProps(buildProps), true);
    if (encodedBuild) url += ';' + encodedBuild;
    const sums = { 'X-Checksum-Sha1': sha('sha1', data), 'X-Checksum-Md5': sha('md5', data), 'X-Checksum': sha('sha256', data) };
    if (data.length >= MIN_CHECKSUM_DEPLOY && !explode) {
      const r = await this.wire.send('PUT', url, { headers: { 'X-Checksum-Deploy': 'true', ...sums } });
      if (r.status === 200 || r.status === 201) return { local, target, checksumDeployed: true, status: r.status };
      // Artifactory answers 404 when it does not have the binary: the CLI then sends the file.
      expectStatus(r, [404], `checksum deploy of ${target}`);
    }
    if (data.length >= MIN_MULTIPART_SIZE && !explode && (await this.multipartSupported())) throw new Error('multipart upload is not replayed');
    const r = await this.wire.send('PUT', url, { headers: { ...sums, ...(explode ? { 'X-Explode-Archive': 'true' } : {}) }, body: data });
    expectStatus(r, [200, 201], `PUT ${target}`);
    return { local, target, checksumDeployed: false, status: r.status };
  }

  // ---- search ------------------------------------------------------------------------------

  /** `jf rt search <pattern> [--props] [--exclusions] [--recursive] [--include-dirs]`: the CLI's printed JSON. */
  async search(spec: FileSpec): Promise<SearchResult[]> {
    await this.reportUsage('rt_search');
    await this.version();
    const items = await this.searchBySpec(spec, 'ALL');
    return items.map((i) => {
      const props: Record<string, string[]> = {};
      for (const p of i.properties ?? []) (props[p.key] ??= []).push(p.value);
      return {
        path: relativePath(i).replace(/\/$/, ''),
        type: i.type ?? '',
        size: i.size ?? 0,
        created: i.created ?? '',
        modified: i.modified ?? '',
        sha1: i.actual_sha1 ?? '',
        sha256: i.sha256 ?? '',
        md5: i.actual_md5 ?? '',
        props,
      };
    });
  }

  // ---- download ----------------------------------------------------------------------------

  /** `jf rt download <pattern> <target> [--props] [--exclusions] [--flat]`: returns the local paths written (relative to `dest`). */
  async download(spec: FileSpec & { flat?: boolean }, dest: string): Promise<{ written: string[]; skipped: string[] }> {
    await this.reportUsage('rt_download');
    await this.version();
    const items = (await this.searchBySpec(spec, 'SYMLINK')).filter((i) => i.type !== 'folder');
    const target = spec.target ?? '';
    const targetDir = target.endsWith('/') || target === '' ? target : dirname(target);
    const plan = items
      .map((i) => ({ item: i, local: join(targetDir, spec.flat || i.path === '.' ? '' : i.path, target.endsWith('/') || target === '' ? i.name : target.split('/').pop()!) }))
      .sort((a, b) => (a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
    const written: string[] = [];
    const skipped: string[] = [];
    for (const { item, local } of plan) {
      const file = join(dest, local);
      // A local file with the same MD5 and SHA-1 is not downloaded again.
      if (existsSync(file)) {
        const have = readFileSync(file);
        if (sha('sha1', have) === item.actual_sha1 && sha('md5', have) === item.actual_md5) {
          skipped.push(local.split(sep).join('/'));
          continue;
        }
      }
      const r = await this.wire.send('GET', escapePath(relativePath(item)));
      expectStatus(r, [200], `GET ${relativePath(item)}`);
      if (sha('sha1', r.body) !== item.actual_sha1) throw new Error(`${relativePath(item)}: checksum mismatch (AQL said ${item.actual_sha1})`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, r.body);
      written.push(local.split(sep).join('/'));
    }
    return { written, skipped };
  }

  // ---- delete ------------------------------------------------------------------------------

  /** `jf rt delete <pattern> [--props] [--exclusions] [--recursive] [--dry-run]`: returns the paths deleted. */
  async delete(spec: FileSpec, dryRun = false): Promise<string[]> {
    await this.reportUsage('rt_delete');
    return this.deleteRun(spec, dryRun);
  }

  /** GetPathsToDelete + DeleteFiles (also the tail of `upload --sync-deletes`). */
  private async deleteRun(spec: FileSpec, dryRun = false): Promise<string[]> {
    let items = await this.searchBySpec({ ...spec, includeDirs: true }, 'NONE');
    if (spec.excludeProps && items.length > 0) {
      // Folders holding a file that carries the excluded props must stay: a second search finds those files.
      const keep = (await this.searchBySpec({ ...spec, includeDirs: true, props: spec.excludeProps, excludeProps: undefined }, 'NONE')).filter((i) => i.type === 'file');
      const keptLocations = keep.map((i) => `${i.repo}/${i.path}/`.replace(/\/\.\/$/, '/'));
      items = items.filter((i) => i.type !== 'folder' || (i.name !== '.' && !keptLocations.some((l) => l.startsWith(relativePath(i)))));
    }
    const paths = topChain(items);
    if (dryRun) return paths;
    for (const p of paths) {
      // The CLI sends a folder with its trailing slash.
      const r = await this.wire.send('DELETE', escapePath(p));
      expectStatus(r, [204], `DELETE ${p}`);
    }
    return paths;
  }

  // ---- copy / move -------------------------------------------------------------------------

  /** `jf rt copy|move <pattern> <target> [--flat] [--dry-run]`: returns `source -> destination` per POST, and the statuses. */
  async moveCopy(mode: 'copy' | 'move', spec: FileSpec & { target: string; flat?: boolean }, dryRun = false): Promise<{ ops: string[]; statuses: number[]; messages: unknown[] }> {
    await this.reportUsage(`rt_${mode}`);
    const items = await this.searchBySpec({ ...spec, includeDirs: true }, 'NONE');
    const reduced = spec.flat ? bottomChain(items) : topChainItems(items);
    const ops: string[] = [];
    const statuses: number[] = [];
    const messages: unknown[] = [];
    for (const item of reduced) {
      let dest = destinationPath(spec.target, item.path, !!spec.flat);
      if (dest.endsWith('/')) {
        if (item.type !== 'folder') dest += item.name;
        else if (!dryRun) {
          const r = await this.wire.send('PUT', escapePath(dest));
          expectStatus(r, [200, 201], `create ${dest}`);
        }
      }
      const source = relativePath(item).replace(/\/$/, '');
      const query = encodeQuery(dryRun ? { to: dest, dry: '1' } : { to: dest });
      const r = await this.wire.send('POST', `${escapePath(`api/${mode}/${source}`)}?${query}`);
      ops.push(`${source} -> ${dest}`);
      statuses.push(r.status);
      messages.push(r.status === 200 || r.status === 409 ? r.json() : r.text());
    }
    return { ops, statuses, messages };
  }

  // ---- properties --------------------------------------------------------------------------

  /**
   * `jf rt set-props <pattern> <props> [--recursive] [--include-dirs]`: a search (recursive by
   * default), then one `PUT api/storage/<item>?properties=…&recursive=0` per item found.
   * `itemRecursive` is jfrog-client-go's PropsParams.IsRecursive (`&recursive=1`).
   */
  async setProps(spec: FileSpec, props: string, itemRecursive = false): Promise<string[]> {
    await this.reportUsage('rt_set_props');
    await this.version();
    const items = await this.searchBySpec(spec, 'ALL');
    const param = encodeProps(parseProps(props), true);
    return this.propsRequests('PUT', items, param, itemRecursive);
  }

  /** `jf rt delete-props <pattern> <keys>`: keys comma-separated, each query-escaped. */
  async deleteProps(spec: FileSpec, keys: string, itemRecursive = false): Promise<string[]> {
    await this.reportUsage('rt_delete_props');
    await this.version();
    const items = await this.searchBySpec(spec, 'ALL');
    const param = keys
      .split(',')
      .map((k) => queryEscape(k))
      .join(',');
    return this.propsRequests('DELETE', items, param, itemRecursive);
  }

  private async propsRequests(method: 'PUT' | 'DELETE', items: ResultItem[], param: string, recursive: boolean): Promise<string[]> {
    const done: string[] = [];
    for (const item of items) {
      const rel = relativePath(item).replace(/\/$/, '');
      const r = await this.wire.send(method, `${escapePath(`api/storage/${rel}`)}?properties=${param}&recursive=${recursive ? 1 : 0}`);
      expectStatus(r, [204], `${method} props on ${rel}`);
      done.push(rel);
    }
    return done;
  }
}

function sortKey(i: ResultItem): string {
  const p = relativePath(i);
  return i.type === 'folder' && !p.endsWith('/') ? p + '/' : p;
}

/** FilterTopChainResults after an ascending sort: a folder stands for everything below it. */
function topChainItems(items: ResultItem[]): ResultItem[] {
  const sorted = [...items].filter((i) => i.name !== '.').sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const out: ResultItem[] = [];
  let prevFolder = '';
  for (const i of sorted) {
    const p = sortKey(i);
    if (prevFolder === '' || !p.startsWith(prevFolder)) {
      out.push(i);
      if (i.type === 'folder') prevFolder = p;
    }
  }
  return out;
}

function topChain(items: ResultItem[]): string[] {
  return topChainItems(items).map(sortKey);
}

/** FilterBottomChainResults after a descending sort (flat copy/move): the deepest items, not their folders. */
function bottomChain(items: ResultItem[]): ResultItem[] {
  const sorted = [...items].filter((i) => i.name !== '.').sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0));
  const out: ResultItem[] = [];
  let prev = '';
  for (const i of sorted) {
    const p = relativePath(i).endsWith('/') ? relativePath(i) : relativePath(i) + '/';
    if (prev === '' || !prev.startsWith(p)) {
      out.push(i);
      prev = p;
    }
  }
  return out;
}

/** getDestinationPath without placeholders. */
function destinationPath(target: string, itemPath: string, flat: boolean): string {
  if (flat) return target;
  const trim = (s: string) => s.replaceAll('//', '/').replaceAll('../', '').replaceAll('./', '');
  if (target.includes('/')) {
    const slash = target.lastIndexOf('/');
    return trim(`${target.slice(0, slash)}/${itemPath}/${target.slice(slash + 1)}`);
  }
  return trim(`${target}/${itemPath}/`);
}

/** Local files below `dir`, as `a/b.txt` paths (for download assertions). */
export function listLocal(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}
