import type { Kysely } from 'kysely';
import { nameOf, parentOf } from '../../core/paths.js';
import { pathKey } from '../items.js';
import type { Schema } from '../schema.js';

/**
 * Fills a repository with `files` items directly through the database (one transaction,
 * multi-row inserts), for tests and measurements that need a big repository fast: `perFolder`
 * files per folder, folders two levels deep (`d0007/e03/file-000123.bin`), every file on the
 * binary `sha1` (which the caller deploys for real when it downloads it). Returns the paths.
 */
export async function bulkItems(db: Kysely<Schema>, repo: string, files: number, binary: { sha1: string; sha256: string; md5: string; size: number }, perFolder = 50): Promise<string[]> {
  const paths: string[] = [];
  const folders = new Set<string>();
  for (let i = 0; i < files; i++) {
    const f = Math.floor(i / perFolder);
    const folder = `d${String(Math.floor(f / 20)).padStart(4, '0')}/e${String(f % 20).padStart(2, '0')}`;
    folders.add(parentOf(folder)).add(folder);
    paths.push(`${folder}/file-${String(i).padStart(6, '0')}.bin`);
  }
  const base = { created: 1, created_by: 'bulk', modified: 1, modified_by: 'bulk', updated: 1 };
  const rows = [
    ...[...folders].map((p) => ({ ...base, path_key: pathKey(repo, p), repo, path: parentOf(p), name: nameOf(p), type: 'folder' as const, size: 0 })),
    ...paths.map((p) => ({
      ...base,
      path_key: pathKey(repo, p),
      repo,
      path: parentOf(p),
      name: nameOf(p),
      type: 'file' as const,
      size: binary.size,
      sha1: binary.sha1,
      sha256: binary.sha256,
      md5: binary.md5,
      mime_type: 'application/octet-stream',
    })),
  ];
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('items').values(rows.slice(i, i + 200)).execute();
  });
  return paths;
}
