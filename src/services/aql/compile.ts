import { sql, type Expression, type SqlBool } from 'kysely';
import { ArcaError } from '../../core/errors.js';
import { wildcardToRegExp } from '../../core/glob.js';
import type { DialectName } from '../../db/database.js';
import { matchesSensitive } from '../../db/search-queries.js';
import { archiveEntryCondition, isArchiveCriterion } from './archive-criteria.js';
import type { Criterion, Operator, Scalar } from './parse.js';
import { buildCondition, buildKindOf, groupBuildCriteria } from './build-criteria.js';

/**
 * AQL criteria of the `items` domain compiled to one SQL condition over `items` (REST-API.md
 * §4, §11). Every comparison is a condition an index can serve: names and paths are compared
 * case-sensitively (SQLite GLOB, LIKE elsewhere, on bytewise collations), and a pattern's
 * literal start becomes a range; properties are `items.id in (select item_id from item_props
 * where …)` on the (key, value) index; times are epoch milliseconds on `created`/`modified`.
 *
 * Artifactory writes the path of an item at the repository root as "."; Arca stores ''. A
 * comparison with "." is one with '', and a pattern that matches "." matches the root too.
 */

type Kind = 'string' | 'number' | 'date' | 'checksum';

/** The item fields AQL names, their column (or SQL expression) and kind. */
const FIELDS: Record<string, { column: string; kind: Kind }> = {
  repo: { column: 'items.repo', kind: 'string' },
  path: { column: 'items.path', kind: 'string' },
  name: { column: 'items.name', kind: 'string' },
  type: { column: 'items.type', kind: 'string' },
  size: { column: 'items.size', kind: 'number' },
  created: { column: 'items.created', kind: 'date' },
  created_by: { column: 'items.created_by', kind: 'string' },
  modified: { column: 'items.modified', kind: 'date' },
  modified_by: { column: 'items.modified_by', kind: 'string' },
  updated: { column: 'items.updated', kind: 'date' },
  actual_sha1: { column: 'items.sha1', kind: 'checksum' },
  actual_md5: { column: 'items.md5', kind: 'checksum' },
  sha256: { column: 'items.sha256', kind: 'checksum' },
  original_sha1: { column: 'items.original_sha1', kind: 'checksum' },
  original_md5: { column: 'items.original_md5', kind: 'checksum' },
  depth: { column: '', kind: 'number' },
};

/** Fields of domains Arca does not index yet, refused with a clear message rather than ignored. */
const LATER: [string, string][] = [
  ['release', 'release bundles'],
];

/**
 * Download statistics (`download_stats`, migration 0017), by the AQL names of the `stat`
 * domain. An item never downloaded has no row: it counts as 0 downloads and no times.
 */
const STAT_FIELDS: Record<string, { column: string; kind: 'number' | 'date' | 'string' }> = {
  'stat.downloads': { column: 'downloads', kind: 'number' },
  'stat.downloaded': { column: 'last_downloaded', kind: 'date' },
  'stat.downloaded_by': { column: 'last_downloaded_by', kind: 'string' },
  'stat.remote_downloads': { column: 'remote_downloads', kind: 'number' },
  'stat.remote_downloaded': { column: 'remote_last_downloaded', kind: 'date' },
};

export function statField(name: string) {
  return Object.hasOwn(STAT_FIELDS, name) ? STAT_FIELDS[name] : undefined;
}

export function itemField(name: string): { column: string; kind: Kind } | undefined {
  return Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
}

export function unsupported(field: string): ArcaError | undefined {
  const later = LATER.find(([prefix]) => field.startsWith(prefix));
  return later ? new ArcaError('BAD_REQUEST', `AQL: '${field}' (${later[1]}) cannot be queried yet`) : undefined;
}

/** Throws the BAD_REQUEST of an AQL query that cannot be run as written. */
export function bad(message: string): never {
  throw new ArcaError('BAD_REQUEST', `AQL: ${message}`);
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** The units of a relative time, with the long names some scripts write. */
const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  mi: MINUTE,
  minute: MINUTE,
  minutes: MINUTE,
  h: 60 * MINUTE,
  d: DAY,
  day: DAY,
  days: DAY,
  w: 7 * DAY,
  week: 7 * DAY,
  weeks: 7 * DAY,
  mo: 30 * DAY,
  month: 30 * DAY,
  months: 30 * DAY,
  y: 365 * DAY,
  year: 365 * DAY,
  years: 365 * DAY,
};
const RELATIVE = new RegExp(`^\\s*(\\d+)\\s*(${Object.keys(UNITS).sort((a, b) => b.length - a.length).join('|')})\\s*$`, 'i');

/** `7d`, `2w`, `3mo`, `1y`, `30mi`, `10s` (a relative time of `$before`/`$last`) in milliseconds. */
export function relativeTime(value: Scalar): number {
  const m = typeof value === 'string' ? RELATIVE.exec(value) : null;
  if (!m) bad(`'${String(value)}' is not a relative time such as 7d, 2w, 3mo, 1y, 30mi`);
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

/** An absolute time: epoch milliseconds, or a date/time string (ISO 8601 or RFC 2822). */
function absoluteTime(value: Scalar): number {
  if (typeof value === 'number') return value;
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) bad(`'${String(value)}' is not a date`);
  return t;
}

const SQL_OP: Partial<Record<Operator, string>> = { $eq: '=', $ne: '<>', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

export interface Compiled {
  where: Expression<SqlBool>;
  /** The criteria name `type` somewhere (else only files are found, as Artifactory does). */
  typed: boolean;
}

/** Compiles criteria to a condition on `items`; `now` anchors `$before`/`$last`. */
export function compileCriteria(dialect: DialectName, criteria: Criterion, now: number): Compiled {
  let typed = false;
  const and = (terms: Expression<SqlBool>[]) => (terms.length === 0 ? sql<SqlBool>`1 = 1` : terms.length === 1 ? terms[0] : sql<SqlBool>`(${sql.join(terms, sql` and `)})`);
  const or = (terms: Expression<SqlBool>[]) => (terms.length === 0 ? sql<SqlBool>`1 = 0` : terms.length === 1 ? terms[0] : sql<SqlBool>`(${sql.join(terms, sql` or `)})`);
  const not = (e: Expression<SqlBool>) => sql<SqlBool>`not (${e})`;

  /** `column` compared with `value` by `op`; `column` is a string column. */
  const compareText = (column: string, op: Operator, value: string): Expression<SqlBool> => {
    if (op === '$match') return matchesSensitive(dialect, column, value);
    if (op === '$nmatch') return not(matchesSensitive(dialect, column, value));
    if (op === '$before' || op === '$last') bad(`'${op}' compares times, not text`);
    return sql<SqlBool>`${sql.ref(column)} ${sql.raw(SQL_OP[op]!)} ${value}`;
  };

  /** A time column compared with an absolute time, or a relative one by `$before`/`$last`. */
  const compareTime = (column: string, name: string, op: Operator, value: Scalar): Expression<SqlBool> => {
    if (op === '$before') return sql<SqlBool>`${sql.ref(column)} < ${now - relativeTime(value)}`;
    if (op === '$last') return sql<SqlBool>`${sql.ref(column)} > ${now - relativeTime(value)}`;
    if (op === '$match' || op === '$nmatch') bad(`'${name}' is a time: compare it with $eq $ne $gt $gte $lt $lte $before $last`);
    return sql<SqlBool>`${sql.ref(column)} ${sql.raw(SQL_OP[op]!)} ${absoluteTime(value)}`;
  };

  /** The number a numeric field is compared with (a number, or digits in a string). */
  const numberFor = (name: string, op: Operator, value: Scalar): number => {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
    if (Number.isNaN(n) || SQL_OP[op] === undefined) bad(`'${name}' is compared with a number by $eq $ne $gt $gte $lt $lte`);
    return n;
  };

  const field = (c: Extract<Criterion, { kind: 'field' }>): Expression<SqlBool> => {
    if (isArchiveCriterion(c)) return archiveEntryCondition(dialect, [c]);
    const st = statField(c.field);
    if (st) return stat(c, st);
    const buildKind = buildKindOf(c.field);
    if (buildKind) return buildCondition(buildKind, [c], compareText);
    const refused = unsupported(c.field);
    if (refused) throw refused;
    const f = itemField(c.field);
    if (!f) bad(`unknown field '${c.field}'`);
    const { op, value } = c;
    if (value === null) {
      if (op !== '$eq' && op !== '$ne') bad(`'${c.field}' can be compared with null by $eq and $ne only`);
      if (c.field === 'depth') bad("'depth' is never null");
      return op === '$eq' ? sql<SqlBool>`${sql.ref(f.column)} is null` : sql<SqlBool>`${sql.ref(f.column)} is not null`;
    }
    if (c.field === 'type') {
      typed = true;
      if (value === 'any') return sql<SqlBool>`1 = 1`;
      if (value !== 'file' && value !== 'folder') bad(`'type' is file, folder or any, not '${String(value)}'`);
      return compareText(f.column, op, value);
    }
    if (c.field === 'path') {
      if (typeof value !== 'string') bad("'path' is compared with text");
      return comparePath(op, value);
    }
    if (c.field === 'depth') {
      if (typeof value !== 'number' || SQL_OP[op] === undefined) bad("'depth' is compared with a number by $eq $ne $gt $gte $lt $lte");
      // The root's items are at depth 1: one more than the slashes of their folder path.
      const slashes = sql`(length(items.path) - length(replace(items.path, '/', '')))`;
      const depth = sql`(case when items.path = '' then 1 else ${slashes} + 2 end)`;
      return sql<SqlBool>`${depth} ${sql.raw(SQL_OP[op]!)} ${value}`;
    }
    if (f.kind === 'date') return compareTime(f.column, c.field, op, value);
    if (f.kind === 'number') return sql<SqlBool>`${sql.ref(f.column)} ${sql.raw(SQL_OP[op]!)} ${numberFor(c.field, op, value)}`;
    if (typeof value !== 'string') bad(`'${c.field}' is compared with text`);
    // Checksums are stored in lower case.
    return compareText(f.column, op, f.kind === 'checksum' && op !== '$match' && op !== '$nmatch' ? value.toLowerCase() : value);
  };

  /**
   * A `stat.*` criterion: the items whose statistics row compares so, plus the items without a
   * row when the comparison holds for what they count as (0 downloads, no time, no user).
   */
  const stat = (c: Extract<Criterion, { kind: 'field' }>, f: { column: string; kind: 'number' | 'date' | 'string' }): Expression<SqlBool> => {
    const { op, value } = c;
    const col = `download_stats.${f.column}`;
    let cond: Expression<SqlBool>;
    let holdsWithoutRow: boolean;
    if (value === null) {
      if (op !== '$eq' && op !== '$ne') bad(`'${c.field}' can be compared with null by $eq and $ne only`);
      if (f.kind === 'number') {
        // Artifactory's "never downloaded": `"stat.downloads": {"$eq": null}`.
        cond = sql<SqlBool>`${sql.ref(col)} ${sql.raw(op === '$eq' ? '=' : '<>')} 0`;
        holdsWithoutRow = op === '$eq';
      } else {
        cond = op === '$eq' ? sql<SqlBool>`${sql.ref(col)} is null` : sql<SqlBool>`${sql.ref(col)} is not null`;
        holdsWithoutRow = op === '$eq';
      }
    } else if (f.kind === 'date') {
      cond = compareTime(col, c.field, op, value);
      holdsWithoutRow = false;
    } else if (f.kind === 'number') {
      const n = numberFor(c.field, op, value);
      cond = sql<SqlBool>`${sql.ref(col)} ${sql.raw(SQL_OP[op]!)} ${n}`;
      holdsWithoutRow = { $eq: 0 === n, $ne: 0 !== n, $gt: 0 > n, $gte: 0 >= n, $lt: 0 < n, $lte: 0 <= n }[op as '$eq'] ?? false;
    } else {
      if (typeof value !== 'string') bad(`'${c.field}' is compared with text`);
      cond = compareText(col, op, value);
      holdsWithoutRow = false;
    }
    const matching = sql<SqlBool>`items.id in (select download_stats.item_id from download_stats where ${cond})`;
    return holdsWithoutRow ? or([matching, sql<SqlBool>`items.id not in (select download_stats.item_id from download_stats)`]) : matching;
  };

  const comparePath = (op: Operator, value: string): Expression<SqlBool> => {
    const column = 'items.path';
    if (op === '$match' || op === '$nmatch') {
      const matchesRoot = wildcardToRegExp(value, 's').test('.');
      const m = matchesRoot ? or([sql<SqlBool>`items.path = ''`, matchesSensitive(dialect, column, value)]) : matchesSensitive(dialect, column, value);
      return op === '$match' ? m : not(m);
    }
    return compareText(column, op, value === '.' ? '' : value);
  };

  /** One property row's condition: its key `key` (when given) and its value compared so. */
  const propertyRow = (c: Extract<Criterion, { kind: 'property' | 'property-part' }>): { row: Expression<SqlBool>; negated: boolean } => {
    const { op, value } = c;
    const negated = op === '$ne' || op === '$nmatch';
    const positive: Operator = op === '$ne' ? '$eq' : op === '$nmatch' ? '$match' : op;
    if (op === '$before' || op === '$last') bad(`'${op}' compares times, not property values`);
    if (c.kind === 'property-part') {
      if (value === null) bad('property.key and property.value are never null');
      return { row: compareText(c.part === 'key' ? 'item_props.prop_key' : 'item_props.prop_value', positive, String(value)), negated };
    }
    // `@*` is any key: the CLI fetches all properties with `{"@*":{"$match":"*"}}` when sort/limit kept them out of the results.
    const key = c.key === '*' ? sql<SqlBool>`1 = 1` : sql<SqlBool>`item_props.prop_key = ${c.key}`;
    // `{"@k": {"$eq": null}}`: no property k at all; `$ne null`: some value of k.
    if (value === null) return { row: key, negated: op === '$eq' };
    return { row: c.key === '*' ? compareText('item_props.prop_value', positive, String(value)) : and([key, compareText('item_props.prop_value', positive, String(value))]), negated };
  };

  const withProperty = (row: Expression<SqlBool>) => sql<SqlBool>`items.id in (select item_props.item_id from item_props where ${row})`;

  const compile = (c: Criterion): Expression<SqlBool> => {
    switch (c.kind) {
      case 'and': {
        // Archive entry criteria side by side hold for one entry (archive-criteria.ts), and the
        // build criteria of one $and for one build entry (build-criteria.ts).
        const entries = c.items.filter(isArchiveCriterion);
        const { groups, rest } = groupBuildCriteria(c.items.filter((i) => !isArchiveCriterion(i)));
        return and([
          ...(entries.length > 0 ? [archiveEntryCondition(dialect, entries)] : []),
          ...groups.map(([kind, fields]) => buildCondition(kind, fields, compareText)),
          ...rest.map((i) => compile(i)),
        ]);
      }
      case 'or':
        return or(c.items.map((i) => compile(i)));
      case 'msp': {
        // Match same property: the property criteria hold for one and the same property row.
        const props = c.items.filter((i): i is Extract<Criterion, { kind: 'property' | 'property-part' }> => i.kind === 'property' || i.kind === 'property-part');
        const rest = c.items.filter((i) => i.kind !== 'property' && i.kind !== 'property-part');
        const rows = props.map((p) => {
          const { row, negated } = propertyRow(p);
          return negated ? not(row) : row;
        });
        return and([...(rows.length > 0 ? [withProperty(and(rows))] : []), ...rest.map((i) => compile(i))]);
      }
      case 'field':
        return field(c);
      case 'property':
      case 'property-part': {
        // `$ne`/`$nmatch`: no property value of that key compares so (items without the key included).
        const { row, negated } = propertyRow(c);
        return negated ? not(withProperty(row)) : withProperty(row);
      }
    }
  };
  const where = compile(criteria);
  return { where, typed };
}
