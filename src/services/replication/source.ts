import type { Database } from '../../db/database.js';
import { findItem, getProperties, type ItemRow } from '../../db/items.js';
import type { SourceFile } from './wire-client.js';

/** What the source repository holds at a path now: a file, a folder, or nothing. */
export type SourceState = { kind: 'file'; file: SourceFile; row: ItemRow } | { kind: 'folder' } | { kind: 'absent' };

/** Reads the source item at `path` now (delivery is state-based: the target is made equal to this). */
export async function sourceState(database: Database, repo: string, path: string, withProps: boolean): Promise<SourceState> {
  const row = await findItem(database, repo, path);
  if (!row) return { kind: 'absent' };
  if (row.type === 'folder' || !row.sha1) return { kind: 'folder' };
  const props = withProps ? ((await getProperties(database.db, [row.id])).get(row.id) ?? {}) : undefined;
  return { kind: 'file', row, file: { sha1: row.sha1, sha256: row.sha256, size: Number(row.size), props } };
}

/**
 * Whether a path is replicated under the target's path rules: under `includePathPrefixPattern`
 * (or the deprecated `pathPrefix` when that is empty), and not under `excludePathPrefixPattern`.
 * A prefix matches any path that starts with it (the seed's prefix semantics); several prefixes
 * may be given separated by commas.
 */
export function pathIncluded(path: string, rules: { pathPrefix?: string; includePathPrefixPattern?: string; excludePathPrefixPattern?: string }): boolean {
  const list = (p: string | undefined) => (p ?? '').split(',').map((s) => s.trim().replace(/^\/+/, '')).filter(Boolean);
  const include = list(rules.includePathPrefixPattern);
  const includes = include.length ? include : list(rules.pathPrefix);
  if (includes.length && !includes.some((p) => path.startsWith(p))) return false;
  return !list(rules.excludePathPrefixPattern).some((p) => path.startsWith(p));
}
