import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Data at rest is private: directories 0700, files 0600 (issue 12, item 11). */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** The umask of an Arca process: whatever it creates (SQLite's -wal/-shm, logs, staged files) is private. */
export const PRIVATE_UMASK = 0o077;

/** One permission tightened at start. */
export interface ModeChange {
  path: string;
  /** Octal, e.g. `755`. */
  from: string;
  to: string;
}

/** `mkdir -p` with 0700 for every directory it creates. */
export function mkdirPrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

const octal = (mode: number) => (mode & 0o777).toString(8);

/**
 * Removes the group and other bits of `path` (a directory becomes 0700, a file 0600, as far
 * as the owner had them); returns the change, or undefined when nothing had to change or the
 * path does not exist. A path this process may not chmod (another owner) is reported as
 * `from` → `from` with the error, so the log names it.
 */
function tighten(path: string, failures: ModeChange[]): ModeChange | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  if ((st.mode & 0o077) === 0) return undefined;
  const target = st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
  try {
    chmodSync(path, target);
  } catch (err) {
    failures.push({ path, from: octal(st.mode), to: `unchanged (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    return undefined;
  }
  return { path, from: octal(st.mode), to: octal(target) };
}

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** The home directories made private (a `HomeLayout` is one; home.ts uses this file, so it is not imported here). */
export interface PrivateHome {
  etc: string;
  security: string;
  data: string;
  filestore: string;
  tmp: string;
  logs: string;
  backup: string;
}

export interface PrivatePaths {
  /** More directories to make 0700 (the binary store's, wherever binarystore.xml puts them). */
  dirs?: string[];
  /** A file-system store: its 2-hex shard folders are made 0700 too (at most 256). */
  fileStores?: string[];
  /** The SQLite database file; its -wal and -shm files go with it. */
  sqliteFile?: string;
}

/**
 * Makes the home's data private at start: etc/ (and every file in it and in etc/security),
 * data/, the file store and its shard folders, the temp directories, logs/ (and its files),
 * backup/, and the SQLite database with its -wal/-shm. Files below a 0700 directory are out
 * of others' reach whatever their own mode, so the store's binaries are not walked (the
 * start stays independent of the number of binaries). Returns what was changed and what
 * could not be.
 */
export function securePrivatePaths(layout: PrivateHome, extra: PrivatePaths = {}): { changed: ModeChange[]; failed: ModeChange[] } {
  const failed: ModeChange[] = [];
  const paths: string[] = [layout.etc, layout.security, layout.data, layout.filestore, layout.tmp, layout.logs, layout.backup, ...(extra.dirs ?? [])];
  // ha-node.properties keeps the seed's advised 644 (no secret in it; etc/ itself is 0700).
  paths.push(...filesIn(layout.etc).filter((f) => !f.endsWith('/ha-node.properties')), ...filesIn(layout.security), ...filesIn(layout.logs));
  for (const store of new Set([layout.filestore, ...(extra.fileStores ?? [])])) {
    paths.push(store);
    try {
      for (const e of readdirSync(store, { withFileTypes: true })) if (e.isDirectory() && /^[0-9a-f]{2}$/.test(e.name)) paths.push(join(store, e.name));
    } catch {
      // not created yet
    }
  }
  if (extra.sqliteFile) paths.push(extra.sqliteFile, `${extra.sqliteFile}-wal`, `${extra.sqliteFile}-shm`, `${extra.sqliteFile}-journal`);
  const changed: ModeChange[] = [];
  for (const p of new Set(paths)) {
    if (!existsSync(p)) continue;
    const c = tighten(p, failed);
    if (c) changed.push(c);
  }
  return { changed, failed };
}
