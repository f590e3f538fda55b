import { sql, type Expression, type SqlBool } from 'kysely';
import { ArcaError } from '../../core/errors.js';
import { wildcardToRegExp } from '../../core/glob.js';
import type { DialectName } from '../../db/database.js';
import { hasWildcard, literalPrefix, matchesSensitive } from '../../db/search-queries.js';
import { reversed } from '../archives/archive-index.js';
import type { Criterion, Operator } from './parse.js';

/**
 * AQL `archive.entry.name` and `archive.entry.path` (the archive entry index, migration 0018):
 * the items whose binary holds an entry comparing so, as
 * `items.sha1 in (select sha1 from archive_entries where …)`. The criteria of one `$and` (and
 * of one criteria object, as the JFrog CLI writes `{"archive.entry.path":…,"archive.entry.name":…}`)
 * hold for one and the same entry. A name pattern with no literal start but a literal end
 * (`*.class`) is matched on the reversed name (`ssalc.*`), a prefix range of its index; the
 * entry path of a top-level entry is '' and compares equal to ".", as item paths do.
 * `$ne`/`$nmatch` find the items with some entry that does not compare so.
 */
function bad(message: string): never {
  throw new ArcaError('BAD_REQUEST', `AQL: ${message}`);
}

export type ArchiveCriterion = Extract<Criterion, { kind: 'field' }>;

const COLUMNS: Record<string, string> = { 'archive.entry.name': 'archive_entries.entry_name', 'archive.entry.path': 'archive_entries.entry_path' };

export function isArchiveCriterion(c: Criterion): boolean {
  return c.kind === 'field' && Object.hasOwn(COLUMNS, c.field);
}

function compare(dialect: DialectName, c: ArchiveCriterion): Expression<SqlBool> {
  const { op, value } = c;
  if (typeof value !== 'string') bad(`'${c.field}' is compared with text`);
  const ops: Partial<Record<Operator, string>> = { $eq: '=', $ne: '<>', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
  const isPath = c.field === 'archive.entry.path';
  const column = COLUMNS[c.field];
  if (op === '$match' || op === '$nmatch') {
    let m: Expression<SqlBool>;
    if (!isPath && hasWildcard(value) && literalPrefix(value) === '' && literalPrefix(reversed(value)) !== '') {
      m = matchesSensitive(dialect, 'archive_entries.name_rev', reversed(value));
    } else {
      m = matchesSensitive(dialect, column, value);
      if (isPath && wildcardToRegExp(value, 's').test('.')) m = sql<SqlBool>`(${sql.ref(column)} = '' or ${m})`;
    }
    return op === '$match' ? m : sql<SqlBool>`not (${m})`;
  }
  const sqlOp = ops[op];
  if (!sqlOp) bad(`'${c.field}' is text: compare it with $eq $ne $gt $gte $lt $lte $match $nmatch`);
  const v = isPath && value === '.' ? '' : value;
  return sql<SqlBool>`${sql.ref(column)} ${sql.raw(sqlOp)} ${v}`;
}

/** The items holding one entry for which all `criteria` hold. */
export function archiveEntryCondition(dialect: DialectName, criteria: Criterion[]): Expression<SqlBool> {
  const terms = criteria.map((c) => compare(dialect, c as ArchiveCriterion));
  const where = terms.length === 1 ? terms[0] : sql<SqlBool>`(${sql.join(terms, sql` and `)})`;
  return sql<SqlBool>`items.sha1 in (select archive_entries.sha1 from archive_entries where ${where})`;
}
