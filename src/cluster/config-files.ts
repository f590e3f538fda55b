import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { orIgnore } from '../db/dialect.js';
import { SYSTEM_PROPERTIES_FILE } from '../config/system-properties.js';
import type { NodeStatus } from './node-registry.js';

/** The files of `etc/` that the primary's copy rules on every node (the seed's note on propagation). */
export const MIRRORED_FILES = ['binarystore.xml', SYSTEM_PROPERTIES_FILE] as const;
export type MirroredFile = (typeof MIRRORED_FILES)[number];

export type SyncAction = 'stored' | 'mirrored' | 'unchanged' | 'absent';

export interface SyncResult {
  name: MirroredFile;
  action: SyncAction;
  /** The copy this node now has ('' when it has none). */
  sha256: string;
  /** The node whose copy the database holds. */
  source?: string;
  /** Where the replaced local copy was kept, when mirroring overwrote one. */
  backup?: string;
}

export interface ConfigFileStatus {
  files: { name: string; sha256: string; size: number; updatedBy: string; updated: string }[];
  nodes: { id: string; state: string; current: boolean; files: { name: string; sha256: string; loaded: string; current: boolean }[] }[];
  /** Nodes not STOPPED that run a copy other than the database's: they pick it up at restart. */
  outdated: string[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Replaces a file atomically (temp file and rename), so a reader never sees half of it. */
function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, file);
}

/**
 * Configuration files kept in the database and mirrored to each node's `etc/` at start.
 *
 * Which copy rules: the copy of the node with role PRIMARY; when no registered node is
 * PRIMARY, the copy of the node that stored it first (a standalone node, or the first node of
 * a cluster without `primary`). Such a "source" node stores its local file when it differs from
 * the database's; every other node overwrites its local file with the database's copy, by
 * content and never by timestamp, keeping the replaced file as `<name>.bak`. Either way the
 * change takes effect when the node (re)starts, as in the seed.
 */
export class ConfigFiles {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly etcDir: string,
    private readonly nodeId: string,
  ) {}

  /** Runs once at start, before the files are read. `primary`: this node has role PRIMARY. */
  async sync(primary: boolean): Promise<SyncResult[]> {
    const db = this.database.db;
    const otherPrimary = primary
      ? undefined
      : await db.selectFrom('cluster_nodes').select('server_id').where('server_role', '=', 'PRIMARY').where('server_id', '!=', this.nodeId).executeTakeFirst();
    const out: SyncResult[] = [];
    for (const name of MIRRORED_FILES) out.push(await this.syncOne(name, primary, otherPrimary !== undefined));
    return out;
  }

  private async syncOne(name: MirroredFile, primary: boolean, otherPrimary: boolean): Promise<SyncResult> {
    const db = this.database.db;
    const file = join(this.etcDir, name);
    const local = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const localSha = local === undefined ? '' : sha256Hex(local);
    let row = await db.selectFrom('config_files').selectAll().where('name', '=', name).executeTakeFirst();
    const source = primary || (!otherPrimary && (row === undefined || row.updated_by === this.nodeId));
    if (source && local !== undefined) {
      const now = this.clock.now();
      if (!row) {
        // Two first nodes starting together: one insert wins, the other mirrors it below.
        const values = { name, content: local, sha256: localSha, updated_by: this.nodeId, updated: now };
        await orIgnore(db, db.insertInto('config_files').values(values), 'name').execute();
        row = await db.selectFrom('config_files').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
        if (row.updated_by === this.nodeId && row.sha256 === localSha) return { name, action: 'stored', sha256: localSha, source: this.nodeId };
      } else if (row.sha256 !== localSha || row.updated_by !== this.nodeId) {
        await db.updateTable('config_files').set({ content: local, sha256: localSha, updated_by: this.nodeId, updated: now }).where('name', '=', name).execute();
        return { name, action: row.sha256 === localSha ? 'unchanged' : 'stored', sha256: localSha, source: this.nodeId };
      } else {
        return { name, action: 'unchanged', sha256: localSha, source: this.nodeId };
      }
    }
    if (!row) return { name, action: 'absent', sha256: localSha };
    if (row.sha256 === localSha) return { name, action: 'unchanged', sha256: localSha, source: row.updated_by };
    let backup: string | undefined;
    if (local !== undefined) {
      backup = `${file}.bak`;
      copyFileSync(file, backup);
    }
    writeAtomically(file, row.content);
    return { name, action: 'mirrored', sha256: row.sha256, source: row.updated_by, backup };
  }

  /** Records which copies this node loaded (what the status endpoint compares). */
  async recordLoaded(results: { name: string; sha256: string }[]): Promise<void> {
    const now = this.clock.now();
    await this.database.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('config_file_loads').where('node_id', '=', this.nodeId).execute();
      if (results.length === 0) return;
      await trx
        .insertInto('config_file_loads')
        .values(results.map((r) => ({ node_id: this.nodeId, name: r.name, sha256: r.sha256, loaded: now })))
        .execute();
    });
  }

  /** The database's copy of a file, or undefined. */
  async content(name: string): Promise<{ content: string; sha256: string; updatedBy: string; updated: number } | undefined> {
    const row = await this.database.db.selectFrom('config_files').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { content: row.content, sha256: row.sha256, updatedBy: row.updated_by, updated: Number(row.updated) };
  }

  /** Per node, the copies it runs, compared with the database's. */
  async status(nodes: NodeStatus[]): Promise<ConfigFileStatus> {
    const db = this.database.db;
    const files = await db.selectFrom('config_files').select(['name', 'sha256', 'content', 'updated_by', 'updated']).orderBy('name').execute();
    const loads = await db.selectFrom('config_file_loads').selectAll().orderBy('node_id').orderBy('name').execute();
    const current = new Map(files.map((f) => [f.name, f.sha256]));
    const states = new Map(nodes.map((n) => [n.id, n.state as string]));
    const ids = [...new Set([...nodes.map((n) => n.id), ...loads.map((l) => l.node_id)])].sort();
    const out: ConfigFileStatus = {
      files: files.map((f) => ({
        name: f.name,
        sha256: f.sha256,
        size: Buffer.byteLength(f.content, 'utf8'),
        updatedBy: f.updated_by,
        updated: new Date(Number(f.updated)).toISOString(),
      })),
      nodes: [],
      outdated: [],
    };
    for (const id of ids) {
      const mine = loads.filter((l) => l.node_id === id);
      const entries = mine.map((l) => ({
        name: l.name,
        sha256: l.sha256,
        loaded: new Date(Number(l.loaded)).toISOString(),
        current: !current.has(l.name) || current.get(l.name) === l.sha256,
      }));
      // A node that never recorded a load (it predates this feature, or failed at start) is
      // not current for any file the database holds.
      const isCurrent = entries.every((e) => e.current) && [...current.keys()].every((n) => mine.some((l) => l.name === n));
      const state = states.get(id) ?? 'UNKNOWN';
      out.nodes.push({ id, state, current: isCurrent, files: entries });
      if (!isCurrent && state !== 'STOPPED') out.outdated.push(id);
    }
    return out;
  }
}
