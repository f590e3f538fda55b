/**
 * Build commands of the JFrog CLI, replayed as jfrog-client-go sends them: the extension
 * points for `upload --build-name` (the build props are in commands.ts; the CLI keeps the
 * partial build info locally), `build-publish`, `build-promote`, `build-discard` and
 * `download --build`. They need the Build Info API on the server; `buildApiMissing` says why a
 * test must be skipped while it is not there.
 */
import { createHash } from 'node:crypto';
import type { Cli, UploadedFile } from './commands.js';
import { aqlQuery, type ResultItem } from './aql.js';
import { parseProps } from './props.js';
import { escapePath, expectStatus } from './wire.js';

export interface BuildRun {
  name: string;
  number: string;
  /** `build.timestamp` prop value: the build's start in epoch milliseconds. */
  timestamp: string;
  /** ISO-8601 with millis and zone, as the CLI writes `started` (e.g. 2026-12-06T23:00:00.000+0000). */
  started: string;
}

export function newBuildRun(name: string, number: string, at = new Date()): BuildRun {
  return { name, number, timestamp: String(at.getTime()), started: at.toISOString().replace('Z', '+0000') };
}

/**
 * The build info `jf rt build-publish` PUTs (build-info-go's BuildInfo; fields it always sends),
 * made from what `upload --build-name` recorded: one generic module named after the build.
 */
export function buildInfoJson(run: BuildRun, uploaded: { file: UploadedFile; data: Buffer }[], dependencies: { id: string; data: Buffer }[] = []): string {
  const sums = (b: Buffer) => ({
    sha1: createHash('sha1').update(b).digest('hex'),
    md5: createHash('md5').update(b).digest('hex'),
    sha256: createHash('sha256').update(b).digest('hex'),
  });
  return JSON.stringify({
    version: '1.0.1',
    name: run.name,
    number: run.number,
    agent: { name: 'jfrog-cli-go', version: '2.71.0' },
    buildAgent: { name: 'GENERIC', version: '2.71.0' },
    started: run.started,
    durationMillis: 1200,
    modules: [
      {
        type: 'generic',
        id: run.name,
        artifacts: uploaded.map(({ file, data }) => {
          const slash = file.target.indexOf('/');
          const path = file.target.slice(slash + 1);
          return { type: path.split('.').pop(), ...sums(data), name: path.split('/').pop(), path, originalDeploymentRepo: file.target.slice(0, slash) };
        }),
        dependencies: dependencies.map((d) => ({ id: d.id, ...sums(d.data) })),
      },
    ],
  });
}

/** Why build replays cannot run yet, or undefined when `PUT /api/build` exists on the server. */
export async function buildApiMissing(cli: Cli): Promise<string | undefined> {
  // An empty body must be refused as bad input (400) by a server that has the route; 404/405 means no route.
  const r = await cli.wire.send('PUT', 'api/build', { headers: { 'Content-Type': 'application/vnd.org.jfrog.artifactory+json' }, body: '{}' });
  if (r.status === 404 || r.status === 405) return `the server has no Build Info API yet (PUT /api/build answered ${r.status}); build replays skipped`;
  return undefined;
}

/** Why explode replays cannot run yet, or undefined. `probeUrl` is a scratch target `repo/path.zip`. */
export async function explodeMissing(cli: Cli, probeUrl: string, zip: Buffer): Promise<string | undefined> {
  const r = await cli.wire.send('PUT', escapePath(probeUrl), { headers: { 'X-Explode-Archive': 'true' }, body: zip });
  const stored = await cli.wire.send('GET', `api/storage/${escapePath(probeUrl)}`);
  if (stored.status === 200) {
    await cli.wire.send('DELETE', escapePath(probeUrl));
    return `X-Explode-Archive is not supported yet (the archive was stored as ${probeUrl}, PUT answered ${r.status}); explode replay skipped`;
  }
  return undefined;
}

/** `jf rt build-publish <name> <number>`: `PUT api/build` with the build info. */
export async function buildPublish(cli: Cli, buildInfo: string): Promise<number> {
  await cli.reportUsage('rt_build_publish');
  const r = await cli.wire.send('PUT', 'api/build', { headers: { 'Content-Type': 'application/vnd.org.jfrog.artifactory+json' }, body: buildInfo });
  expectStatus(r, [200, 201, 204], 'PUT api/build');
  return r.status;
}

/** `GET api/build/<name>/<number>` (GetBuildInfo; 404 means "not found", not an error, for the CLI). */
export async function getBuildInfo(cli: Cli, name: string, number: string): Promise<{ buildInfo: Record<string, unknown> } | undefined> {
  const r = await cli.wire.send('GET', `api/build/${encodeURIComponent(name)}/${encodeURIComponent(number)}`);
  if (r.status === 404) return undefined;
  expectStatus(r, [200], 'GET api/build');
  return r.json();
}

export interface PromoteOptions {
  status?: string;
  comment?: string;
  sourceRepo?: string;
  targetRepo: string;
  includeDependencies?: boolean;
  copy?: boolean;
  failFast?: boolean;
  dryRun?: boolean;
  props?: string;
}

/** `jf rt build-promote <name> <number> <target>`: `POST api/build/promote/<name>/<number>`. */
export async function buildPromote(cli: Cli, name: string, number: string, o: PromoteOptions): Promise<{ status: number; body: unknown }> {
  await cli.reportUsage('rt_build_promote');
  const body: Record<string, unknown> = {};
  if (o.comment) body.comment = o.comment;
  if (o.sourceRepo) body.sourceRepo = o.sourceRepo;
  body.targetRepo = o.targetRepo;
  if (o.status) body.status = o.status;
  body.dependencies = o.includeDependencies ?? false;
  body.copy = o.copy ?? false;
  body.failFast = o.failFast ?? true;
  body.dryRun = o.dryRun ?? false;
  const props = parseProps(o.props);
  if (props.size > 0) body.properties = Object.fromEntries(props);
  const url = `api/build/promote/${encodeURIComponent(name)}/${encodeURIComponent(number)}`;
  const r = await cli.wire.send('POST', url, { headers: { 'Content-Type': 'application/vnd.org.jfrog.artifactory.build.PromotionRequest+json' }, body: JSON.stringify(body) });
  return { status: r.status, body: r.text() ? JSON.parse(r.text()) : undefined };
}

export interface DiscardOptions {
  maxDays?: number;
  maxBuilds?: number;
  excludeBuilds?: string[];
  deleteArtifacts?: boolean;
  async?: boolean;
}

/** `jf rt build-discard <name>`: `POST api/build/retention/<name>?async=<bool>`, 204 expected. */
export async function buildDiscard(cli: Cli, name: string, o: DiscardOptions): Promise<number> {
  await cli.reportUsage('rt_build_discard');
  const body: Record<string, unknown> = {};
  if (o.maxDays !== undefined) body.minimumBuildDate = new Date(Date.now() - o.maxDays * 86_400_000).toISOString().replace('Z', '+0000');
  if (o.maxBuilds !== undefined) body.count = String(o.maxBuilds);
  if (o.excludeBuilds?.length) body.buildNumbersNotToBeDiscarded = o.excludeBuilds;
  body.deleteBuildArtifacts = o.deleteArtifacts ?? false;
  const r = await cli.wire.send('POST', `${escapePath(`api/build/retention/${name}`)}?async=${o.async ?? false}`, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return r.status;
}

/**
 * `jf rt download "*" <target> --build <name>/<number>`: the build info (for aggregated
 * builds), the build's artifact paths from `GET api/builds/buildArtifacts/<name>/<number>/
 * artifactory-build-info` (AQL when that fails), their checksums and props by a second AQL,
 * then one GET per file. Returns the `repo/path/name` of each file fetched.
 */
export async function downloadBuild(cli: Cli, name: string, number: string): Promise<string[]> {
  await cli.reportUsage('rt_download');
  await cli.version();
  const info = await getBuildInfo(cli, name, number);
  if (!info) return [];
  const builds = `{"$or":[{"$and":[{"artifact.module.build.name":"${name}","artifact.module.build.number":"${number}"}]}]}`;
  const api = await cli.wire.send('GET', `api/builds/buildArtifacts/${escapePath(`${name}/${number}/artifactory-build-info`)}`);
  let paths: ResultItem[];
  if (api.status === 200) paths = api.json<{ repo: string; path: string; name: string }[]>().map((i) => ({ ...i, type: 'file' }));
  else paths = await cli.aql(aqlQuery({ pattern: '*' }, 'ALL', builds));
  // The API gives paths only: checksums and props come from a property query on the build's artifacts.
  const withProps = await cli.aql(`items.find({"$and":[${builds},{"$or":[{"@build.name":"${name}"}]}]}).include("name","repo","path","actual_md5","actual_sha1","sha256","size","property")`);
  const byPath = new Map(withProps.map((i) => [`${i.repo}/${i.path}/${i.name}`, i]));
  const fetched: string[] = [];
  for (const p of paths) {
    const item = byPath.get(`${p.repo}/${p.path}/${p.name}`);
    if (!item) continue;
    const rel = item.path === '.' ? `${item.repo}/${item.name}` : `${item.repo}/${item.path}/${item.name}`;
    const r = await cli.wire.send('GET', escapePath(rel));
    expectStatus(r, [200], `GET ${rel}`);
    if (createHash('sha1').update(r.body).digest('hex') !== item.actual_sha1) throw new Error(`${rel}: checksum mismatch`);
    fetched.push(rel);
  }
  return fetched.sort();
}

/**
 * `jf rt download --build <name>/<number>` without a pattern, by the AQL fallback (the CLI
 * tries `POST api/builds/buildArtifacts` first and falls back to this when it fails): the
 * build's artifacts, filtered to the ones carrying that build's props when a SHA-1 is shared.
 */
export async function buildArtifacts(cli: Cli, name: string, number: string): Promise<ResultItem[]> {
  const body = `{"$or":[{"$and":[{"artifact.module.build.name":"${name}","artifact.module.build.number":"${number}"}]}]}`;
  const items = await cli.aql(aqlQuery({ pattern: '*' }, 'ALL', body));
  const bySha1 = new Map<string, ResultItem[]>();
  for (const i of items) bySha1.set(i.actual_sha1 ?? '', [...(bySha1.get(i.actual_sha1 ?? '') ?? []), i]);
  const out: ResultItem[] = [];
  for (const group of bySha1.values()) {
    const own = group.filter((i) => (i.properties ?? []).some((p) => p.key === 'build.name' && p.value === name) && (i.properties ?? []).some((p) => p.key === 'build.number' && p.value === number));
    out.push(...(own.length ? own : group.slice(0, 1)));
  }
  return out;
}
