import { sql, type Expression, type SqlBool } from 'kysely';
import { ArcaError } from '../../core/errors.js';
import type { Criterion, Operator } from './parse.js';

/**
 * AQL's build domains inside `items.find` (issue 15, item 6): `artifact.*` and `dependency.*`
 * criteria find the items whose sha1 is an artifact (or dependency) of a matching build, through
 * the build index of migration 0019 (`build_entries` by (sha1, kind), `builds` by (name,
 * number)). The criteria of one `$and` (the CLI's
 * `{"$and":[{"artifact.module.build.name":"x","artifact.module.build.number":"1"}]}`) hold for
 * one and the same build entry, as in the seed.
 */

function bad(message: string): never {
  throw new ArcaError('BAD_REQUEST', `AQL: ${message}`);
}

type Field = Extract<Criterion, { kind: 'field' }>;
export type BuildKind = 'artifact' | 'dependency';

/** The build fields AQL names (after `artifact.` / `dependency.`) and their columns. */
const COLUMNS: Record<string, string> = {
  'module.build.name': 'builds.name',
  'module.build.number': 'builds.number',
  'module.name': 'build_entries.module',
  name: 'build_entries.name',
  type: 'build_entries.type',
  sha1: 'build_entries.sha1',
};

/** The build kind of a field (`artifact.module.build.name` → artifact), or undefined for other fields. */
export function buildKindOf(field: string): BuildKind | undefined {
  return field.startsWith('artifact.') ? 'artifact' : field.startsWith('dependency.') ? 'dependency' : undefined;
}

/** Criteria on build fields of one kind, as one `items.sha1 in (…)` condition. */
export function buildCondition(
  kind: BuildKind,
  criteria: Field[],
  compareText: (column: string, op: Operator, value: string) => Expression<SqlBool>,
): Expression<SqlBool> {
  const terms = criteria.map((c) => {
    const name = c.field.slice(kind.length + 1);
    const column = Object.hasOwn(COLUMNS, name) ? COLUMNS[name] : undefined;
    if (!column) bad(`unknown field '${c.field}' (build fields: ${Object.keys(COLUMNS).map((k) => `${kind}.${k}`).join(', ')})`);
    if (typeof c.value !== 'string' && typeof c.value !== 'number') bad(`'${c.field}' is compared with text`);
    if (!['$eq', '$ne', '$match', '$nmatch'].includes(c.op)) bad(`'${c.field}' is compared by $eq $ne $match $nmatch`);
    const value = name === 'sha1' ? String(c.value).toLowerCase() : String(c.value);
    return compareText(column, c.op, value);
  });
  return sql<SqlBool>`items.sha1 in (select build_entries.sha1 from build_entries inner join builds on builds.item_id = build_entries.item_id where build_entries.kind = ${kind} and ${sql.join(terms, sql` and `)})`;
}

/** Splits the items of an `$and` into its build criteria (grouped by kind) and the rest. */
export function groupBuildCriteria(items: Criterion[]): { groups: [BuildKind, Field[]][]; rest: Criterion[] } {
  const byKind = new Map<BuildKind, Field[]>();
  const rest: Criterion[] = [];
  for (const i of items) {
    const kind = i.kind === 'field' ? buildKindOf(i.field) : undefined;
    if (kind && i.kind === 'field') byKind.set(kind, [...(byKind.get(kind) ?? []), i]);
    else rest.push(i);
  }
  return { groups: [...byKind.entries()], rest };
}
