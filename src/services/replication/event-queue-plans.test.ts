import { CompiledQuery, type Compilable } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase } from '../../../test/helpers/databases.js';
import { depthQuery, headsQuery, nextOfPathQuery, pruneBatchQuery, readyWindowQuery } from './event-queries.js';
import { pathKey } from './event-types.js';

/** One line per plan step, on each dialect's own EXPLAIN. */
async function explain(db: import('kysely').Kysely<any>, dialect: string, q: Compilable): Promise<string> {
  const c = q.compile();
  const prefix = dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
  const res = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + c.sql, [...c.parameters]));
  return res.rows.map((r) => (dialect === 'postgresql' ? String(r['QUERY PLAN']) : JSON.stringify(r))).join('\n');
}

describe.each(DIALECTS)('replication event queue plans on %s', (dialect) => {
  it('reads every hot query as a range of one index: no full scan, no sort of a range', async () => {
    const tdb = await openTestDatabase(dialect);
    try {
      const db = tdb.database.db;
      // 40,000 events over 20 targets, one in ten pending: the planner chooses on real sizes.
      for (let from = 0; from < 40_000; from += 1_000) {
        const rows = Array.from({ length: 1_000 }, (_, k) => {
          const g = from + k + 1;
          const pending = g % 10 === 0;
          return { target: `t${g % 20}`, repo: 'libs', path: `p${g}`, path_key: pathKey('libs', `p${g}`), kind: 'deploy', payload: '{}', created: g, state: pending ? 0 : 1, next_at: g, done_at: pending ? null : g };
        });
        await db.insertInto('replication_events').values(rows).execute();
      }
      if (dialect === 'postgresql') await db.executeQuery(CompiledQuery.raw('analyze replication_events'));
      else if (dialect === 'mysql') await db.executeQuery(CompiledQuery.raw('analyze table replication_events'));
      else await db.executeQuery(CompiledQuery.raw('analyze'));
      // `sorts`: the heads of at most 200 keys may be sorted for the grouping; the window,
      // the next event of a path and the prune batch come in index order.
      const checks: [Compilable, string, boolean][] = [
        [readyWindowQuery(db, 't0', 30_000, 40), 'replication_events_ready', false],
        [headsQuery(db, 't0', [pathKey('libs', 'p20'), pathKey('libs', 'p40')]), 'replication_events_path', true],
        [nextOfPathQuery(db, 't0', pathKey('libs', 'p20')), 'replication_events_path', false],
        [depthQuery(db, 't0', 0), 'replication_events_ready', true],
        [pruneBatchQuery(db, 30_000, 500), 'replication_events_done', false],
      ];
      const fullScan = { sqlite: /SCAN replication_events/, postgresql: /Seq Scan/, mysql: /"type":"(ALL|index)"/ }[dialect]!;
      const sorted = { sqlite: /TEMP B-TREE FOR ORDER BY/, postgresql: /Sort/, mysql: /filesort/ }[dialect]!;
      for (const [q, index, sorts] of checks) {
        const text = await explain(db, dialect, q);
        expect(text, text).toContain(index);
        expect(text, text).not.toMatch(fullScan);
        // A range, not a walk of the whole index.
        if (dialect === 'postgresql') expect(text, text).toContain('Index Cond');
        if (dialect === 'sqlite') expect(text, text).toContain('SEARCH replication_events USING');
        if (dialect === 'mysql') expect(text, text).toMatch(/"type":"(ref|range)"/);
        if (!sorts) expect(text, text).not.toMatch(sorted);
      }
    } finally {
      await tdb.drop();
    }
  }, 120_000);
});
