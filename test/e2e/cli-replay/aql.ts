/**
 * How the JFrog CLI turns a file-spec (pattern, props, exclusions, recursive, include-dirs)
 * into the AQL it posts to `/api/search/aql` — the behaviour of jfrog-client-go's
 * aqlquerybuilder.go and repopathfile.go, re-expressed here. The text is built by string
 * concatenation, exactly as the CLI does (values are not JSON-escaped).
 */
import { parseProps } from './props.js';

export interface FileSpec {
  pattern: string;
  target?: string;
  props?: string;
  excludeProps?: string;
  exclusions?: string[];
  /** Default true, as in the CLI. */
  recursive?: boolean;
  includeDirs?: boolean;
  /** `--archive-entries`: a pattern of entry paths inside archives (`site/*.html`). */
  archiveEntries?: string;
  sortBy?: string[];
  sortOrder?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** Which properties the caller needs: search wants all, download only symlink ones, copy/move/delete none. */
export type RequiredProps = 'ALL' | 'SYMLINK' | 'NONE';

interface Triple {
  repo: string;
  path: string;
  file: string;
}

function aqlValue(v: string): string {
  return v.includes('*') ? `{"$match":"${v}"}` : `"${v}"`;
}

/** An entries pattern gets a `*` only when it ends with `/` (there is no repository part). */
function withArchiveWildcard(pattern: string): string {
  return pattern.endsWith('/') ? pattern + '*' : pattern;
}

function withWildcard(pattern: string): string {
  return pattern.endsWith('/') || pattern === '' ? pattern + '*' : pattern;
}

/**
 * The source pattern: parentheses are only dropped when the target has a matching `{n}`
 * placeholder, and the replay uses none, so they stay (exclusions drop all of them).
 */
function sourcePattern(pattern: string): string {
  return withWildcard(pattern);
}

function defaultPath(recursive: boolean): string {
  return recursive ? '*' : '.';
}

function pathFileTriples(repo: string, pattern: string, recursive: boolean): Triple[] {
  if (pattern === '*') return [{ repo, path: defaultPath(recursive), file: '*' }];
  const slash = pattern.lastIndexOf('/');
  let path: string;
  let name: string;
  let triples: Triple[];
  if (slash < 0) {
    path = '';
    name = pattern;
    // A name starting with `*` is covered by the recursive triples below.
    triples = recursive && pattern.startsWith('*') ? [] : [{ repo, path: '.', file: pattern }];
  } else {
    path = pattern.slice(0, slash);
    name = pattern.slice(slash + 1);
    triples = [{ repo, path, file: name }];
  }
  if (!recursive) return triples;
  if (name === '*') return [...triples, { repo, path: path + '/*', file: '*' }];
  // Each `*` of the name may also stand for "any folders, then the rest of the name".
  const parts = name.split('*');
  for (let i = 0; i < parts.length - 1; i++) {
    const str = parts.map((p, j) => (j === i ? p + '*/' : p)).join('*');
    const [filePath, fileName] = str.split('/');
    const prefix = path !== '' && !path.endsWith('/') ? path + '/' : path;
    triples.push({ repo, path: prefix + filePath, file: fileName === '' ? '*' : fileName });
  }
  return triples;
}

function repoPathFileTriples(pattern: string, recursive: boolean): Triple[] {
  const firstSlash = pattern.indexOf('/');
  if (firstSlash === 0) throw new Error('a pattern of a path in Artifactory must start with a repository name or an asterisk (*)');
  const stars = [...pattern.matchAll(/\*/g)].map((m) => m.index!);
  const slashBefore = (star: number) => firstSlash >= 0 && firstSlash < star;
  const singleRepo = stars.length === 0 || slashBefore(stars[0]);
  if (!singleRepo) {
    const triples: Triple[] = [];
    let lastRepoStarEnd = 0;
    for (const star of stars) {
      if (slashBefore(star)) break;
      const repo = pattern.slice(0, star + 1);
      let rest = pattern.slice(star);
      if ((rest.match(/\//g)?.length ?? 0) > 1 || (rest.match(/\*/g)?.length ?? 0) > 1) {
        if (rest.startsWith('*/')) rest = rest.slice(2);
        if (!rest.startsWith('*')) rest = '*' + rest;
      }
      triples.push(...pathFileTriples(repo, rest, recursive));
      lastRepoStarEnd = star + 1;
    }
    if (lastRepoStarEnd < firstSlash) triples.push(...pathFileTriples(pattern.slice(0, firstSlash), pattern.slice(firstSlash + 1), recursive));
    else if (firstSlash < 0 && !pattern.endsWith('*')) triples.push(...pathFileTriples(pattern, '*', recursive));
    return triples;
  }
  if (firstSlash < 0) return pathFileTriples(pattern, '*', recursive);
  return pathFileTriples(pattern.slice(0, firstSlash), pattern.slice(firstSlash + 1), recursive);
}

function innerPart(t: Triple): string {
  const conds: string[] = [];
  if (t.repo !== '' && t.repo !== '*' && t.repo !== '**') conds.push(`"repo":${aqlValue(t.repo)}`);
  conds.push(`"path":${aqlValue(t.path)}`, `"name":${aqlValue(t.file)}`);
  return `{"$and":[{${conds.join(',')}}]}`;
}

/** One triple per archive entry pattern pair (handleArchiveSearch): the repo is always named. */
function archivePart(t: Triple, entry: Triple): string {
  return `{"$and":[{"repo":${aqlValue(t.repo)},"path":${aqlValue(t.path)},"name":${aqlValue(t.file)},"archive.entry.path":${aqlValue(entry.path)},"archive.entry.name":${aqlValue(entry.file)}}]}`;
}

function propsPart(props?: string, excludeProps?: string): string {
  let q = '';
  for (const [key, values] of parseProps(props)) q += `"$and":[${values.map((v) => `{"@${key}":${aqlValue(v)}}`).join(',')}],`;
  const excluded = parseProps(excludeProps);
  if (excluded.size > 0) {
    const items: string[] = [];
    for (const [key, values] of excluded) for (const v of values) items.push(`{"@${key}":{"$ne":${aqlValue(v)}}}`);
    q += `"$or":[${items.join(',')}],`;
  }
  return q;
}

function excludePart(spec: FileSpec, useLocalPath: boolean, recursive: boolean): string {
  let q = '';
  for (const exclusion of spec.exclusions ?? []) {
    for (const t of repoPathFileTriples(withWildcard(exclusion).replaceAll('(', '').replaceAll(')', ''), recursive)) {
      const path = !useLocalPath && t.path === '.' ? '*' : t.path;
      const repo = t.repo !== '' && t.repo !== '*' ? `"repo":{"$nmatch":"${t.repo}"},` : '';
      q += `"$or":[{${repo}"path":{"$nmatch":"${path}"},"name":{"$nmatch":"${t.file}"}}],`;
    }
  }
  return q;
}

/** The `items.find(…)` argument for a wildcard spec (CreateAqlBodyForSpecWithPattern). */
export function aqlBodyForPattern(spec: FileSpec): string {
  const recursive = spec.recursive ?? true;
  const pattern = sourcePattern(spec.pattern);
  const triples = repoPathFileTriples(pattern, recursive);
  const includeRoot = (pattern.match(/\//g)?.length ?? 0) < 2;
  const nePath = triples.length === 0 || includeRoot ? '' : '"path":{"$ne":"."},';
  const type = spec.includeDirs ? '"type":"any",' : '';
  const exclude = excludePart(spec, triples.length === 0 || recursive, recursive);
  const entries = spec.archiveEntries ? pathFileTriples('', withArchiveWildcard(spec.archiveEntries).replaceAll('(', '').replaceAll(')', ''), true) : [];
  const parts = entries.length ? triples.map((t) => entries.map((e) => archivePart(t, e)).join(',')) : triples.map(innerPart);
  return `{${propsPart(spec.props, spec.excludeProps) + type + nePath + exclude}"$or":[${parts.join(',')}]}`;
}

const DEFAULT_FIELDS = ['name', 'repo', 'path', 'actual_md5', 'actual_sha1', 'sha256', 'size', 'type', 'modified', 'created'];

/** The include list: the default fields, plus `property` unless sort/limit is used or no props are needed. */
export function returnFields(spec: FileSpec, required: RequiredProps): string[] {
  const fields = [...DEFAULT_FIELDS];
  const propsInline = !(spec.sortBy?.length) && !(spec.limit && spec.limit > 0);
  if (!propsInline) {
    for (const f of spec.sortBy ?? []) if (!fields.includes(f)) fields.push(f);
    return fields;
  }
  return required !== 'NONE' ? [...fields, 'property'] : fields;
}

/** The full query the CLI posts (BuildQueryFromSpecFile). */
export function aqlQuery(spec: FileSpec, required: RequiredProps, body = aqlBodyForPattern(spec)): string {
  let q = `items.find(${body}).include(${returnFields(spec, required).map((f) => `"${f}"`).join(',')})`;
  if (spec.sortBy?.length) q += `.sort({"$${spec.sortOrder ?? 'asc'}":[${spec.sortBy.map((f) => `"${f}"`).join(',')}]})`;
  if (spec.offset && spec.offset > 0) q += `.offset(${spec.offset})`;
  if (spec.limit && spec.limit > 0) q += `.limit(${spec.limit})`;
  return q;
}

/** One row of an AQL answer, as the CLI reads it (ResultItem). */
export interface ResultItem {
  repo: string;
  path: string;
  name: string;
  type?: string;
  size?: number;
  created?: string;
  modified?: string;
  actual_md5?: string;
  actual_sha1?: string;
  sha256?: string;
  properties?: { key: string; value: string }[];
}

/** `repo/path/name` (`repo/name` at the root), with a trailing slash for folders (GetItemRelativePath). */
export function relativePath(item: ResultItem): string {
  if (item.path === '.') return `${item.repo}/${item.name}`;
  const p = `${item.repo}/${item.path}/${item.name}`.replace(/\/+/g, '/');
  return item.type === 'folder' ? p + '/' : p;
}
