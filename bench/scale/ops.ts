/**
 * The operations the `--scale` bench times at each size, as requests against a running node:
 * what each asks for and what a right answer looks like. Which artifact each request names is
 * drawn at random (seeded) among the files that exist.
 */
import { seededRandom } from '../../src/core/seeded-random.js';
import { call, type Reply } from './client.js';
import {
  deleteFolder, fileName, filePath, GENERIC, hasOwnBinary, leafFolder, NPM, NPM_PACKAGE, NPM_VERSIONS, OWN_BINARY_EVERY, PROPERTIES_EVERY, PYPI, PYPI_PROJECT,
  sharedContent, uniqueContent, BIG_IMAGE, BIG_IMAGE_TAGS, DOCKER, image, IMAGE_EVERY, searchPackage,
} from './layout.js';
import { digestsOf } from './loader.js';

export interface Op {
  id: string;
  label: string;
  /** 'deploy' and 'delete' change the repository; they run last. */
  kind: 'read' | 'deploy' | 'delete';
  request(k: number): Promise<Reply>;
  check(r: Reply, k: number): string | undefined;
}

/** What the ops need to know about the repository as it is now. */
export interface RepoState {
  /** Files loaded into the generic repository (indexes 0..size-1). */
  size: number;
  /** Leaf folders (index f = ⌊i/50⌋) and single files deleted since. */
  deleted: { folders: Set<number>; files: Set<number> };
}

export const isDeleted = (s: RepoState, i: number) => s.deleted.folders.has(Math.floor(i / 50)) || s.deleted.files.has(i);

/** A seeded generator, so every run asks for the same artifacts. */
export const random = seededRandom;

const json = (r: Reply) => JSON.parse(r.body.toString()) as Record<string, unknown>;
const status = (r: Reply, ...ok: number[]) => (ok.includes(r.status) ? undefined : `HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
const oneResult = (r: Reply) => status(r, 200) ?? ((json(r).results as unknown[]).length === 1 ? undefined : `${(json(r).results as unknown[]).length} results, want 1`);

const aql = (base: string, query: string) => call(`${base}/api/search/aql`, 'POST', Buffer.from(query), { 'content-type': 'text/plain' });

/** The AQL the JFrog CLI sends for `jf rt search '{repo}/{folder}/{name}'` (recursive): the folder's files and those below it. */
export function cliPatternQuery(repo: string, folder: string, name: string): string {
  const triple = (path: string) => `{"$and":[{"repo":"${repo}","path":${path},"name":{"$match":"${name}"}}]}`;
  return (
    `items.find({"path":{"$ne":"."},"$or":[${triple(`"${folder}"`)},${triple(`{"$match":"${folder}/*"}`)}]})` +
    '.include("name","repo","path","actual_md5","actual_sha1","sha256","size","type","modified","created","property")'
  );
}

/** The ops for one size; `tag` names what deploys and deletes of this size use. */
export function opsFor(base: string, state: RepoState, tag: string, seed: number): Op[] {
  const rnd = random(seed);
  /** A file that exists, among every `period`-th. */
  const pick = (period: number): number => {
    for (;;) {
      let i = Math.floor(rnd() * state.size);
      i -= i % period;
      if (!isDeleted(state, i)) return i;
    }
  };
  // The k-th request of every op names the same file (one with a binary or properties of its own where it matters).
  const picked = new Map<number, Map<number, number>>();
  const at = (k: number, period = 1) => {
    if (!picked.has(period)) picked.set(period, new Map());
    const m = picked.get(period)!;
    if (!m.has(k)) m.set(k, pick(period));
    return m.get(k)!;
  };
  const get = (path: string) => call(`${base}/${path}`);
  const origin = new URL(base).origin;
  return [
    {
      id: 'get',
      label: 'GET of one artifact',
      kind: 'read',
      request: (k) => get(`${GENERIC}/${filePath(at(k))}`),
      check: (r, k) => status(r, 200) ?? (r.body.length === (hasOwnBinary(at(k)) ? uniqueContent(at(k)).length : sharedContent(0).length) ? undefined : 'wrong body'),
    },
    {
      id: 'list',
      label: '?list of a 50-file folder',
      kind: 'read',
      request: (k) => get(`api/storage/${GENERIC}/${leafFolder(at(k))}?list`),
      check: (r) => status(r, 200) ?? ((json(r).files as unknown[]).length > 0 ? undefined : 'no files'),
    },
    {
      id: 'list-deep',
      label: '?list&deep=1 of a 50-file folder',
      kind: 'read',
      request: (k) => get(`api/storage/${GENERIC}/${leafFolder(at(k))}?list&deep=1`),
      check: (r) => status(r, 200) ?? ((json(r).files as unknown[]).length > 0 ? undefined : 'no files'),
    },
    {
      id: 'root',
      label: 'repository root, ?list&deep=1&depth=1',
      kind: 'read',
      request: () => get(`api/storage/${GENERIC}?list&deep=1&depth=1&listFolders=1`),
      check: (r) => status(r, 200) ?? ((json(r).files as unknown[]).length > 0 ? undefined : 'empty root'),
    },
    {
      id: 'search-name',
      label: 'name search file-{i}.*',
      kind: 'read',
      request: (k) => get(`api/search/artifact?name=${encodeURIComponent(fileName(at(k)).replace(/\.bin$/, '.*'))}&repos=${GENERIC}`),
      check: oneResult,
    },
    {
      id: 'search-checksum',
      label: 'checksum search (sha1)',
      kind: 'read',
      request: (k) => get(`api/search/checksum?sha1=${digestsOf(uniqueContent(at(k, OWN_BINARY_EVERY))).sha1}&repos=${GENERIC}`),
      check: oneResult,
    },
    {
      id: 'search-prop',
      label: 'property search build.number={i}',
      kind: 'read',
      request: (k) => get(`api/search/prop?build.number=${at(k, PROPERTIES_EVERY)}&repos=${GENERIC}`),
      check: oneResult,
    },
    {
      id: 'npm',
      label: `npm packument, ${NPM_VERSIONS.toLocaleString('en-US')} versions`,
      kind: 'read',
      request: () => get(`api/npm/${NPM}/${NPM_PACKAGE}`),
      check: (r, k) => status(r, 200) ?? (k > 0 || Object.keys(json(r).versions as object).length === NPM_VERSIONS ? undefined : 'versions missing'),
    },
    {
      id: 'pypi',
      label: 'PyPI simple page, 1,000 files',
      kind: 'read',
      request: () => get(`api/pypi/${PYPI}/simple/${PYPI_PROJECT}/`),
      check: (r) => status(r, 200) ?? (r.body.includes('.whl') ? undefined : 'no files on the page'),
    },
    {
      id: 'npm-search',
      label: 'npm search text=pkg-{i} (1 package per artifact)',
      kind: 'read',
      request: (k) => get(`api/npm/${NPM}/-/v1/search?text=${searchPackage(at(k))}&size=20`),
      check: (r, k) => status(r, 200) ?? ((json(r).objects as { package: { name: string } }[])[0]?.package.name === searchPackage(at(k)) ? undefined : 'the package is not first'),
    },
    {
      id: 'oci-catalog',
      label: 'OCI catalogue, n=100 after img-{j} (1 image per 10)',
      kind: 'read',
      request: (k) => call(`${origin}/v2/_catalog?n=100&last=${DOCKER}/${image(Math.floor(at(k) / IMAGE_EVERY))}`),
      check: (r) => status(r, 200) ?? ((json(r).repositories as string[]).length > 0 || state.size <= IMAGE_EVERY * 100 ? undefined : 'an empty page'),
    },
    {
      id: 'oci-tags',
      label: `OCI tags list, n=10 (${BIG_IMAGE_TAGS} tags, 1 manifest per 10)`,
      kind: 'read',
      request: () => call(`${origin}/v2/${DOCKER}/${BIG_IMAGE}/tags/list?n=10`),
      check: (r) => status(r, 200) ?? ((json(r).tags as string[]).length === 10 ? undefined : `${(json(r).tags as string[]).length} tags, want 10`),
    },
    {
      id: 'metrics',
      label: 'metrics scrape',
      kind: 'read',
      request: () => get('api/v1/metrics'),
      check: (r) => status(r, 200),
    },
    {
      id: 'aql-pattern',
      label: "AQL, the CLI's pattern {leaf folder}/*.bin",
      kind: 'read',
      request: (k) => aql(base, cliPatternQuery(GENERIC, leafFolder(at(k)), '*.bin')),
      check: (r) => status(r, 200) ?? ((json(r).results as unknown[]).length > 0 ? undefined : 'no results'),
    },
    {
      id: 'aql-prop',
      label: 'AQL, a property {"@build.number":"{i}"}',
      kind: 'read',
      request: (k) => aql(base, `items.find({"@build.number":"${at(k, PROPERTIES_EVERY)}"}).include("repo","path","name","property")`),
      check: oneResult,
    },
    {
      id: 'aql-time',
      label: 'AQL, modified $before 1d, oldest 100',
      kind: 'read',
      request: () => aql(base, `items.find({"repo":"${GENERIC}","modified":{"$before":"1d"}}).sort({"$asc":["modified"]}).limit(100)`),
      check: (r) => status(r, 200) ?? ((json(r).results as unknown[]).length === 100 ? undefined : `${(json(r).results as unknown[]).length} results, want 100`),
    },
    {
      id: 'aql-stat',
      label: 'AQL, not downloaded for 60 days or never, 100',
      kind: 'read',
      request: () => aql(base, `items.find({"repo":"${GENERIC}","$or":[{"stat.downloaded":{"$before":"60d"}},{"stat.downloads":{"$eq":null}}]}).limit(100)`),
      check: (r) => status(r, 200) ?? ((json(r).results as unknown[]).length === 100 ? undefined : `${(json(r).results as unknown[]).length} results, want 100`),
    },
    {
      id: 'deploy',
      label: 'deploy (PUT 1 KiB, new binary)',
      kind: 'deploy',
      request: (k) => call(`${base}/${GENERIC}/deploys/s${tag}/d${Math.floor(k / 50)}/f-${k}.bin`, 'PUT', Buffer.from(`deploy ${tag} ${k}\n`.padEnd(1024, '.'))),
      check: (r) => status(r, 201),
    },
    {
      id: 'delete',
      label: 'DELETE of a 500-file folder',
      kind: 'delete',
      request: (k) => call(`${base}/${GENERIC}/${deleteFolder(tag, k)}`, 'DELETE'),
      check: (r) => status(r, 200, 204),
    },
  ];
}
