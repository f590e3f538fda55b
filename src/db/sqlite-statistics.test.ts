import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite, type Database } from './database.js';
import { migrate } from './migrate.js';

/**
 * SQLite keeps no planner statistics unless asked: without them a checksum search in a large
 * repository walks the repository through (repo, path) instead of looking the checksum up.
 * A SQLite database refreshes them (PRAGMA optimize) on open, hourly, on close and on demand.
 */

const ITEMS = 20_000;
const dirs: string[] = [];
const open: Database[] = [];

afterEach(async () => {
  for (const d of open.splice(0)) await d.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arca-sqlite-stats-'));
  dirs.push(dir);
  return join(dir, 'arca.db');
}

async function filled(path: string): Promise<Database> {
  const d = openSqlite(path);
  open.push(d);
  await migrate(d);
  const now = Date.now();
  for (let i = 0; i < ITEMS; i += 500) {
    const rows = [];
    for (let j = i; j < i + 500; j++) {
      const sha1 = j.toString(16).padStart(40, '0');
      rows.push({ path_key: sha1, repo: 'big', path: `f${Math.floor(j / 50)}`, name: `file-${j}.bin`, type: 'file' as const, sha1, size: 1, created: now, created_by: 'a', modified: now, modified_by: 'a', updated: now });
    }
    await d.db.insertInto('items').values(rows).execute();
  }
  return d;
}

/** The plan of a checksum search, as search-queries.ts builds it. */
async function checksumPlan(d: Database): Promise<string> {
  const q = d.db
    .selectFrom('items')
    .selectAll()
    .where('items.repo', 'in', ['big'])
    .where('items.type', '=', 'file')
    .where('items.sha1', '=', (ITEMS - 7).toString(16).padStart(40, '0'))
    .orderBy('items.repo')
    .orderBy('items.path')
    .orderBy('items.name')
    .limit(1000)
    .compile();
  const plan = await d.db.executeQuery<{ detail: string }>({ ...q, sql: `explain query plan ${q.sql}` });
  return plan.rows.map((r) => r.detail).join(' | ');
}

describe('SQLite planner statistics', () => {
  it('looks a checksum up through its index once the statistics are refreshed', async () => {
    const d = await filled(file());
    await d.refreshStatistics!();
    expect(await checksumPlan(d)).toContain('USING INDEX items_sha1');
  });

  it('has them after a restart: they are kept when the database closes and refreshed when it opens', async () => {
    const path = file();
    const first = await filled(path);
    await first.close();
    open.splice(open.indexOf(first), 1);
    const again = openSqlite(path);
    open.push(again);
    expect(await checksumPlan(again)).toContain('USING INDEX items_sha1');
  });
});
