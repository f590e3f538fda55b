import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Work proportional to change for garbage collection and the metrics scrape (issue 14, item 4).
 *
 * - `binaries.ref_count`: how many items reference the binary, as of the last fold of the log
 *   below. Backfilled here; the index on (ref_count, created, sha1) lets GC find the binaries at
 *   zero older than its grace period without reading the others.
 * - `binary_ref_log`: one row per change of a reference (+1 when an item gets a sha1, -1 when it
 *   loses it), written by triggers on `items` in the writer's own transaction, so every path that
 *   writes items is counted. Appending never waits for another transaction's row lock (no hot
 *   row, no lock-order deadlock between an overwrite and the binary it drops); GC folds the log
 *   into `ref_count` before it looks for garbage. The exact count of a binary is
 *   `ref_count + sum(delta)` of its log rows.
 * - `binary_totals`: the count and bytes of binaries (tombstones of size -1 excluded) as rows of
 *   changes (+1/-1 binary, ±size bytes) that triggers on `binaries` append; the metrics scrape
 *   sums them and folds them into one row when they pile up. Appending, like the log above,
 *   never waits for a lock, so no upload waits on a counter row and no counter row closes a
 *   lock cycle between an upload and GC.
 * - `gc_state`: when the next full sweep of the store for files with no binaries row is due.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  const mysql = dialect === 'mysql';
  const engine = <T extends { modifyEnd(m: any): T }>(t: T): T => (mysql ? t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : t);

  await db.schema.alterTable('binaries').addColumn('ref_count', big, (c) => c.notNull().defaultTo(0)).execute();
  await sql`update binaries set ref_count = (select count(*) from items where items.sha1 = binaries.sha1)`.execute(db);
  await db.schema.createIndex('binaries_garbage').on('binaries').columns(['ref_count', 'created', 'sha1']).execute();

  const idType = dialect === 'postgresql' ? 'bigserial' : dialect === 'mysql' ? 'bigint' : 'integer';
  await engine(
    db.schema
      .createTable('binary_ref_log')
      .addColumn('id', idType, (c) => (dialect === 'postgresql' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('sha1', 'varchar(40)', (c) => c.notNull())
      .addColumn('delta', 'integer', (c) => c.notNull()),
  ).execute();
  await db.schema.createIndex('binary_ref_log_sha1').on('binary_ref_log').column('sha1').execute();

  await engine(
    db.schema
      .createTable('binary_totals')
      .addColumn('id', idType, (c) => (dialect === 'postgresql' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('binary_count', big, (c) => c.notNull())
      .addColumn('byte_count', big, (c) => c.notNull()),
  ).execute();
  await sql`insert into binary_totals (binary_count, byte_count)
    select count(*), coalesce(sum(size), 0) from binaries where size >= 0`.execute(db);

  await engine(
    db.schema
      .createTable('gc_state')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('value', big, (c) => c.notNull()),
  ).execute();
  await sql`insert into gc_state (name, value) values ('next_orphan_sweep', 0)`.execute(db);

  for (const statement of TRIGGERS[dialect]) await sql.raw(statement).execute(db);
}

const ADD = (row: string) => `insert into binary_totals (binary_count, byte_count) values (1, ${row}.size);`;
const SUB = (row: string) => `insert into binary_totals (binary_count, byte_count) values (-1, -${row}.size);`;

const SQLITE = [
  `create trigger items_ref_insert after insert on items when new.sha1 is not null
   begin insert into binary_ref_log (sha1, delta) values (new.sha1, 1); end`,
  `create trigger items_ref_delete after delete on items when old.sha1 is not null
   begin insert into binary_ref_log (sha1, delta) values (old.sha1, -1); end`,
  `create trigger items_ref_update after update of sha1 on items when old.sha1 is not new.sha1
   begin
     insert into binary_ref_log (sha1, delta) select old.sha1, -1 where old.sha1 is not null;
     insert into binary_ref_log (sha1, delta) select new.sha1, 1 where new.sha1 is not null;
   end`,
  `create trigger binaries_total_insert after insert on binaries when new.size >= 0 begin ${ADD('new')} end`,
  `create trigger binaries_total_delete after delete on binaries when old.size >= 0 begin ${SUB('old')} end`,
  `create trigger binaries_total_update after update of size on binaries when old.size is not new.size
   begin
     insert into binary_totals (binary_count, byte_count) select -1, -old.size where old.size >= 0;
     insert into binary_totals (binary_count, byte_count) select 1, new.size where new.size >= 0;
   end`,
];

const POSTGRESQL = [
  `create function arca_items_ref() returns trigger language plpgsql as $$
   begin
     if tg_op <> 'INSERT' then
       if old.sha1 is not null then insert into binary_ref_log (sha1, delta) values (old.sha1, -1); end if;
     end if;
     if tg_op <> 'DELETE' then
       if new.sha1 is not null then insert into binary_ref_log (sha1, delta) values (new.sha1, 1); end if;
     end if;
     return null;
   end $$`,
  `create trigger items_ref_insert after insert on items for each row when (new.sha1 is not null) execute function arca_items_ref()`,
  `create trigger items_ref_delete after delete on items for each row when (old.sha1 is not null) execute function arca_items_ref()`,
  `create trigger items_ref_update after update of sha1 on items for each row when (old.sha1 is distinct from new.sha1) execute function arca_items_ref()`,
  `create function arca_binaries_total() returns trigger language plpgsql as $$
   begin
     if tg_op <> 'INSERT' then
       if old.size >= 0 then ${SUB('old')} end if;
     end if;
     if tg_op <> 'DELETE' then
       if new.size >= 0 then ${ADD('new')} end if;
     end if;
     return null;
   end $$`,
  `create trigger binaries_total_insert after insert on binaries for each row when (new.size >= 0) execute function arca_binaries_total()`,
  `create trigger binaries_total_delete after delete on binaries for each row when (old.size >= 0) execute function arca_binaries_total()`,
  `create trigger binaries_total_update after update of size on binaries for each row when (old.size is distinct from new.size) execute function arca_binaries_total()`,
];

const MYSQL = [
  `create trigger items_ref_insert after insert on items for each row
   begin if new.sha1 is not null then insert into binary_ref_log (sha1, delta) values (new.sha1, 1); end if; end`,
  `create trigger items_ref_delete after delete on items for each row
   begin if old.sha1 is not null then insert into binary_ref_log (sha1, delta) values (old.sha1, -1); end if; end`,
  `create trigger items_ref_update after update on items for each row
   begin
     if not (old.sha1 <=> new.sha1) then
       if old.sha1 is not null then insert into binary_ref_log (sha1, delta) values (old.sha1, -1); end if;
       if new.sha1 is not null then insert into binary_ref_log (sha1, delta) values (new.sha1, 1); end if;
     end if;
   end`,
  `create trigger binaries_total_insert after insert on binaries for each row
   begin if new.size >= 0 then ${ADD('new')} end if; end`,
  `create trigger binaries_total_delete after delete on binaries for each row
   begin if old.size >= 0 then ${SUB('old')} end if; end`,
  `create trigger binaries_total_update after update on binaries for each row
   begin
     if not (old.size <=> new.size) then
       if old.size >= 0 then ${SUB('old')} end if;
       if new.size >= 0 then ${ADD('new')} end if;
     end if;
   end`,
];

const TRIGGERS: Record<DialectName, string[]> = { sqlite: SQLITE, postgresql: POSTGRESQL, mysql: MYSQL };
