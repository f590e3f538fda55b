import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Format indexes proportional to their answers (issue 14, items 3 and 7).
 *
 * `npm_search`: one row per npm package document (`.npm/{name}/package.json`), holding what
 * `GET /-/v1/search` filters on and answers with, so a search reads these small rows instead of
 * parsing every document of the repository. Triggers on `items` keep the set of rows exact:
 * whenever a document item appears, changes its content or path, or goes (publish, unpublish,
 * a generic deploy or delete, copy, move, import, repository delete), its row is (re)created
 * empty, with `doc_sha1` null, or deleted. The npm store fills the row in the same transaction
 * as the document it writes; a row still empty (a document written by anything else, or one
 * that existed before this migration) is filled from its document by the next search of that
 * repository (formats/npm/service/npm-search-index.ts), which reads only such rows.
 *
 * `oci_images`: the images of each repository, one row per image that has a manifest in a
 * digest folder (`{image}/sha256:{64 hex}/manifest.json` or `list.manifest.json`, sha512 with
 * 128), kept by triggers on `items` too: a digest manifest's insert adds its image (if absent),
 * its delete removes the image once no digest manifest remains below it (found through the
 * `items_tree` index, a few rows). The catalogue pages this table by image name.
 *
 * The trigger names start with `npm_search_` and `oci_images_`. Both tables are backfilled here
 * from `items` (npm rows empty; the documents are read by the first search).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const mysql = dialect === 'mysql';
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  const engine = <T extends { modifyEnd(m: any): T }>(t: T): T => (mysql ? t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : t);
  const bytewise = dialect === 'postgresql' ? sql` collate "C"` : sql``;
  const text = mysql ? 'mediumtext' : 'text';

  await engine(
    db.schema
      .createTable('npm_search')
      .addColumn('item_id', big, (c) => c.primaryKey())
      .addColumn('repo', 'varchar(64)', (c) => c.notNull())
      .addColumn('doc_sha1', 'varchar(40)')
      .addColumn('listed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('name', 'varchar(255)')
      .addColumn('name_lc', sql`varchar(255)${bytewise}`)
      .addColumn('search_lc', sql.raw(text))
      .addColumn('match_json', sql.raw(text))
      .addColumn('entry', sql.raw(text)),
  ).execute();
  await db.schema.createIndex('npm_search_stale').on('npm_search').columns(['repo', 'doc_sha1']).execute();
  await db.schema.createIndex('npm_search_name').on('npm_search').columns(['repo', 'name_lc']).execute();

  await engine(
    db.schema
      .createTable('oci_images')
      .addColumn('repo', 'varchar(64)', (c) => c.notNull())
      .addColumn('image', sql`varchar(512)${bytewise}`, (c) => c.notNull())
      .addPrimaryKeyConstraint('oci_images_pk', ['repo', 'image']),
  ).execute();

  if (dialect === 'postgresql') {
    // The text filter of a search term (`search_lc LIKE '%term%'`) through trigrams, where
    // migration 0012 could create pg_trgm; otherwise searches read the repository's rows.
    const trgm = await sql`select 1 from pg_extension where extname = 'pg_trgm'`.execute(db);
    if (trgm.rows.length > 0) await sql`create index npm_search_trgm on npm_search using gin (search_lc gin_trgm_ops)`.execute(db);
  }

  for (const statement of TRIGGERS(dialect)) await sql.raw(statement).execute(db);

  await sql.raw(`insert into npm_search (item_id, repo) select id, repo from items i where ${isDocument('i')}`).execute(db);
  for (const [cond, image] of digestForms(dialect, 'i')) {
    const insert = mysql ? 'insert ignore into' : 'insert into';
    const tail = dialect === 'postgresql' ? ' on conflict do nothing' : dialect === 'sqlite' ? ' on conflict do nothing' : '';
    await sql.raw(`${insert} oci_images (repo, image) select distinct repo, ${image} from items i where ${isManifest('i')} and ${cond}${tail}`).execute(db);
  }
  if (dialect === 'postgresql') await sql`analyze npm_search, oci_images`.execute(db);
}

/** A package document item: the rows `npm_search` holds one row for. */
function isDocument(r: string): string {
  return `${r}.name = 'package.json' and ${r}.type = 'file' and ${r}.path like '.npm/%'`;
}

function isManifest(r: string): string {
  return `${r}.type = 'file' and ${r}.name in ('manifest.json', 'list.manifest.json')`;
}

/**
 * The digest folder forms: [condition, image expression] for a row whose parent folder is
 * `{image}/sha256:{64}` or `{image}/sha512:{128}`, with an image of at most 512 characters.
 * One spelling for every dialect (MySQL's length() counts bytes, its char_length() characters).
 */
function digestForms(dialect: DialectName, r: string): [string, string][] {
  const len = dialect === 'mysql' ? 'char_length' : 'length';
  return (
    [
      ['sha256', 71],
      ['sha512', 135],
    ] as const
  ).map(([alg, tail]) => [
    `substr(${r}.path, ${len}(${r}.path) - ${tail}, 8) = '/${alg}:' and ${len}(${r}.path) <= ${512 + tail + 1}`,
    `substr(${r}.path, 1, ${len}(${r}.path) - ${tail + 1})`,
  ]);
}

/** Deletes the image of digest manifest `r` unless another digest manifest remains below it. */
function dropImage(dialect: DialectName, r: string, image: string): string {
  const path = dialect === 'postgresql' ? 'm.path collate "C"' : 'm.path';
  const remains = (alg: string) =>
    `exists (select 1 from items m where m.repo = ${r}.repo and ${path} >= ${concat(dialect, image, `'/${alg}:'`)} and ${path} < ${concat(dialect, image, `'/${alg};'`)} and ${isManifest('m')})`;
  return `delete from oci_images where repo = ${r}.repo and image = ${image} and not ${remains('sha256')} and not ${remains('sha512')}`;
}

function concat(dialect: DialectName, a: string, b: string): string {
  return dialect === 'mysql' ? `concat(${a}, ${b})` : `(${a} || ${b})`;
}

function addImage(dialect: DialectName, r: string, image: string): string {
  if (dialect === 'mysql') return `insert ignore into oci_images (repo, image) values (${r}.repo, ${image})`;
  return `insert into oci_images (repo, image) values (${r}.repo, ${image}) on conflict do nothing`;
}

const CHANGED = ['sha1', 'path', 'name', 'type', 'repo'];

function TRIGGERS(dialect: DialectName): string[] {
  const forms = digestForms(dialect, 'x');
  const at = (s: string, r: string) => s.replace(/\bx\./g, `${r}.`);
  const npmAdd = (r: string) => `insert into npm_search (item_id, repo) values (${r}.id, ${r}.repo)`;
  const npmDrop = (r: string) => `delete from npm_search where item_id = ${r}.id`;

  if (dialect === 'sqlite') {
    const out: string[] = [
      `create trigger npm_search_insert after insert on items when ${isDocument('new')} begin ${npmAdd('new')}; end`,
      `create trigger npm_search_delete after delete on items when old.name = 'package.json' begin ${npmDrop('old')}; end`,
      `create trigger npm_search_update after update of ${CHANGED.join(', ')} on items when old.name = 'package.json' or new.name = 'package.json'
       begin ${npmDrop('old')}; insert into npm_search (item_id, repo) select new.id, new.repo where ${isDocument('new')}; end`,
    ];
    forms.forEach(([cond, image], i) => {
      const n = at(image, 'new');
      const o = at(image, 'old');
      out.push(
        `create trigger oci_images_insert_${i} after insert on items when ${isManifest('new')} and ${at(cond, 'new')} begin ${addImage(dialect, 'new', n)}; end`,
        `create trigger oci_images_delete_${i} after delete on items when ${isManifest('old')} and ${at(cond, 'old')} begin ${dropImage(dialect, 'old', o)}; end`,
        `create trigger oci_images_update_old_${i} after update of path, name, type, repo on items when ${isManifest('old')} and ${at(cond, 'old')} begin ${dropImage(dialect, 'old', o)}; end`,
        `create trigger oci_images_update_new_${i} after update of path, name, type, repo on items when ${isManifest('new')} and ${at(cond, 'new')} begin ${addImage(dialect, 'new', n)}; end`,
      );
    });
    return out;
  }

  if (dialect === 'postgresql') {
    const ociOld = forms.map(([cond, image]) => `if ${isManifest('old')} and ${at(cond, 'old')} then ${dropImage(dialect, 'old', at(image, 'old'))}; end if;`).join('\n');
    const ociNew = forms.map(([cond, image]) => `if ${isManifest('new')} and ${at(cond, 'new')} then ${addImage(dialect, 'new', at(image, 'new'))}; end if;`).join('\n');
    const changed = CHANGED.map((c) => `old.${c} is distinct from new.${c}`).join(' or ');
    return [
      `create function npm_search_items() returns trigger language plpgsql as $$
       begin
         if tg_op <> 'INSERT' then ${npmDrop('old')}; end if;
         if tg_op <> 'DELETE' and ${isDocument('new')} then ${npmAdd('new')}; end if;
         return null;
       end $$`,
      `create trigger npm_search_insert after insert on items for each row when (new.name = 'package.json') execute function npm_search_items()`,
      `create trigger npm_search_delete after delete on items for each row when (old.name = 'package.json') execute function npm_search_items()`,
      `create trigger npm_search_update after update on items for each row
       when ((old.name = 'package.json' or new.name = 'package.json') and (${changed})) execute function npm_search_items()`,
      `create function oci_images_items() returns trigger language plpgsql as $$
       begin
         if tg_op <> 'INSERT' then ${ociOld} end if;
         if tg_op <> 'DELETE' then ${ociNew} end if;
         return null;
       end $$`,
      `create trigger oci_images_insert after insert on items for each row when (new.name in ('manifest.json', 'list.manifest.json')) execute function oci_images_items()`,
      `create trigger oci_images_delete after delete on items for each row when (old.name in ('manifest.json', 'list.manifest.json')) execute function oci_images_items()`,
      `create trigger oci_images_update after update on items for each row
       when ((old.name in ('manifest.json', 'list.manifest.json') or new.name in ('manifest.json', 'list.manifest.json'))
             and (old.path is distinct from new.path or old.name is distinct from new.name or old.type is distinct from new.type or old.repo is distinct from new.repo))
       execute function oci_images_items()`,
    ];
  }

  // MySQL/MariaDB: no WHEN clause; the conditions are IFs in the body.
  const ociOld = forms.map(([cond, image]) => `if ${isManifest('old')} and ${at(cond, 'old')} then ${dropImage(dialect, 'old', at(image, 'old'))}; end if;`).join('\n');
  const ociNew = forms.map(([cond, image]) => `if ${isManifest('new')} and ${at(cond, 'new')} then ${addImage(dialect, 'new', at(image, 'new'))}; end if;`).join('\n');
  const changed = CHANGED.map((c) => `not (old.${c} <=> new.${c})`).join(' or ');
  const placeChanged = ['path', 'name', 'type', 'repo'].map((c) => `not (old.${c} <=> new.${c})`).join(' or ');
  return [
    `create trigger npm_search_insert after insert on items for each row
     begin if ${isDocument('new')} then ${npmAdd('new')}; end if; end`,
    `create trigger npm_search_delete after delete on items for each row
     begin if old.name = 'package.json' then ${npmDrop('old')}; end if; end`,
    `create trigger npm_search_update after update on items for each row
     begin
       if (old.name = 'package.json' or new.name = 'package.json') and (${changed}) then
         ${npmDrop('old')};
         if ${isDocument('new')} then ${npmAdd('new')}; end if;
       end if;
     end`,
    `create trigger oci_images_insert after insert on items for each row begin ${ociNew} end`,
    `create trigger oci_images_delete after delete on items for each row begin ${ociOld} end`,
    `create trigger oci_images_update after update on items for each row
     begin
       if ${placeChanged} then
         ${ociOld}
         ${ociNew}
       end if;
     end`,
  ];
}
