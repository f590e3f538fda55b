/**
 * The Artifactory Query Language, as the JFrog CLI and cleanup scripts send it (REST-API.md §4
 * and §11): `items.find(<criteria>)` followed by any of `.include(…)`, `.sort({…})`,
 * `.offset(n)`, `.limit(n)`, `.transitive()`, `.distinct(bool)`.
 *
 * The criteria are JSON objects, read here by a parser of our own rather than JSON.parse:
 * the CLI writes the same key twice in one object (`{"$or":[…exclusions…],"$or":[…patterns…]}`),
 * and every key must count. `$and`, `$or` and `$msp` take an array (or an object) of criteria;
 * the keys of an object in that array are joined by that operator, as Artifactory does (the
 * CLI's exclusion `"$or":[{"path":{"$nmatch":…},"name":{"$nmatch":…}}]` means "either differs",
 * and it wraps each pattern triple in `"$and"` for that reason). Keys of the top object are ANDed. Every error names the offset where the text went wrong.
 */
import { ArcaError } from '../../core/errors.js';

export type Operator = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$match' | '$nmatch' | '$before' | '$last';
export type Scalar = string | number | boolean | null;

export type Criterion =
  | { kind: 'and' | 'or' | 'msp'; items: Criterion[] }
  /** A field of the item (`repo`, `name`, `size`, `stat.downloads`…). */
  | { kind: 'field'; field: string; op: Operator; value: Scalar; at: number }
  /** `@key`: the item has a property `key` whose value compares so. */
  | { kind: 'property'; key: string; op: Operator; value: Scalar; at: number }
  /** `property.key` / `property.value`: some property of the item compares so. */
  | { kind: 'property-part'; part: 'key' | 'value'; op: Operator; value: Scalar; at: number };

export interface AqlQuery {
  domain: 'items';
  criteria: Criterion;
  /** The fields named in `.include(…)`, or undefined for the default set. */
  include: string[] | undefined;
  sort: { direction: 'asc' | 'desc'; fields: string[] } | undefined;
  offset: number;
  limit: number | undefined;
  transitive: boolean;
}

const OPERATORS = new Set<string>(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$match', '$nmatch', '$before', '$last']);
const DOMAINS = ['items', 'builds', 'entries', 'archive.entries', 'artifacts', 'dependencies', 'modules', 'properties', 'statistics', 'releases', 'release_artifacts'];
/** Nesting deeper than this is refused: a bound on the work (and the stack) one query can take. */
const MAX_DEPTH = 32;
/** Criteria leaves per query: a bound on the size of the SQL one query compiles to. */
const MAX_LEAVES = 2000;

export class AqlSyntaxError extends ArcaError {
  constructor(message: string, readonly offset: number, text: string) {
    super('BAD_REQUEST', `AQL syntax error at offset ${offset}: ${message}${near(text, offset)}`);
  }
}

function near(text: string, at: number): string {
  const piece = text.slice(at, at + 40).replace(/\s+/g, ' ');
  return piece === '' ? ' (at the end of the query)' : ` (near '${piece}')`;
}

// Matched where the reader stands (sticky), so no token copies the rest of the query.
const WORD = /[A-Za-z_]\w*/y;
const LITERAL = /(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const DIGITS = /\d+/y;
const DOT_WORD = /\.\s*[A-Za-z_]/y;
/** JSON's one-character escapes. */
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

type Json = { t: 'scalar'; v: Scalar; at: number } | { t: 'array'; items: Json[]; at: number } | { t: 'object'; pairs: [string, Json, number][]; at: number };

class Reader {
  i = 0;
  leaves = 0;
  constructor(readonly text: string) {}

  fail(message: string, at = this.i): never {
    throw new AqlSyntaxError(message, at, this.text);
  }

  /** The match of sticky `re` at the reader's position (the position does not move). */
  match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.i;
    return re.exec(this.text);
  }

  skip(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i])) this.i++;
  }

  peek(): string {
    this.skip();
    return this.text[this.i] ?? '';
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}'`);
    this.i++;
  }

  accept(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.i++;
    return true;
  }

  /** A dotted name outside the criteria: `items`, `find`, `archive.entries`. */
  word(): string {
    this.skip();
    const m = this.match(WORD);
    if (!m) this.fail('expected a name');
    this.i += m[0].length;
    return m[0];
  }

  value(depth: number): Json {
    if (depth > MAX_DEPTH) this.fail(`criteria nested deeper than ${MAX_DEPTH} levels`);
    const c = this.peek();
    const at = this.i;
    if (c === '{') {
      this.i++;
      const pairs: [string, Json, number][] = [];
      if (!this.accept('}')) {
        do {
          const keyAt = (this.skip(), this.i);
          if (this.peek() !== '"') this.fail('expected a quoted field name');
          const key = this.string();
          this.expect(':');
          pairs.push([key, this.value(depth + 1), keyAt]);
        } while (this.accept(','));
        this.expect('}');
      }
      return { t: 'object', pairs, at };
    }
    if (c === '[') {
      this.i++;
      const items: Json[] = [];
      if (!this.accept(']')) {
        do items.push(this.value(depth + 1));
        while (this.accept(','));
        this.expect(']');
      }
      return { t: 'array', items, at };
    }
    if (++this.leaves > MAX_LEAVES) this.fail(`more than ${MAX_LEAVES} values in one query`);
    if (c === '"') return { t: 'scalar', v: this.string(), at };
    const m = this.match(LITERAL);
    if (!m) this.fail('expected a value');
    this.i += m[0].length;
    const v = m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]);
    return { t: 'scalar', v, at };
  }

  /** A double-quoted string with JSON escapes; a backslash before anything else is kept as written. */
  string(): string {
    const start = this.i;
    this.i++; // the opening quote
    let out = '';
    for (;;) {
      if (this.i >= this.text.length) this.fail('unterminated string', start);
      const ch = this.text[this.i++];
      if (ch === '"') return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = this.text[this.i++] ?? '';
      if (Object.hasOwn(ESCAPES, e)) out += ESCAPES[e];
      else if (e === 'u' && this.match(HEX4)) {
        out += String.fromCharCode(parseInt(this.text.slice(this.i, this.i + 4), 16));
        this.i += 4;
      } else out += `\\${e}`;
    }
  }

  integer(): number {
    this.skip();
    const m = this.match(DIGITS);
    if (!m) this.fail('expected a non-negative integer');
    this.i += m[0].length;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) this.fail('number too large', this.i - m[0].length);
    return n;
  }
}

/** Parses the text of an AQL query; AqlSyntaxError (a BAD_REQUEST naming the offset) when it is not one. */
export function parseAql(text: string): AqlQuery {
  const r: Reader = new Reader(text);
  r.skip();
  const domainAt = r.i;
  let domain = r.word();
  while (r.peek() === '.' && r.match(DOT_WORD)) {
    const save = r.i;
    r.i++;
    const next = r.word();
    if (next === 'find') {
      r.i = save;
      break;
    }
    domain += `.${next}`;
  }
  if (!DOMAINS.includes(domain)) r.fail(`unknown domain '${domain}'`, domainAt);
  if (domain !== 'items') throw new ArcaError('BAD_REQUEST', `AQL: the '${domain}' domain is not supported; query 'items'`);
  r.expect('.');
  if (r.word() !== 'find') r.fail("expected '.find('", domainAt);
  r.expect('(');
  let criteria: Criterion = { kind: 'and', items: [] };
  if (!r.accept(')')) {
    const json = r.value(0);
    if (json.t !== 'object') r.fail('the criteria must be an object', json.at);
    criteria = toCriterion(r, json);
    r.expect(')');
  }
  const q: AqlQuery = { domain: 'items', criteria, include: undefined, sort: undefined, offset: 0, limit: undefined, transitive: false };
  const seen = new Set<string>();
  while (r.accept('.')) {
    const at = r.i;
    const name = r.word();
    if (seen.has(name)) r.fail(`'.${name}()' given twice`, at);
    seen.add(name);
    r.expect('(');
    if (name === 'include') {
      const fields: string[] = [];
      if (r.peek() !== ')') {
        do {
          if (r.peek() !== '"') r.fail('expected a quoted field name');
          fields.push(r.string());
        } while (r.accept(','));
      }
      q.include = fields;
    } else if (name === 'sort') {
      const json = r.value(0);
      if (json.t !== 'object' || json.pairs.length !== 1) r.fail('expected {"$asc": [fields]} or {"$desc": [fields]}', json.at);
      const [dir, list, dirAt] = json.pairs[0];
      if (dir !== '$asc' && dir !== '$desc') r.fail(`unknown sort order '${dir}'`, dirAt);
      if (list.t !== 'array' || list.items.length === 0) r.fail('expected a list of fields to sort by', list.at);
      q.sort = {
        direction: dir === '$asc' ? 'asc' : 'desc',
        fields: list.items.map((f) => (f.t === 'scalar' && typeof f.v === 'string' ? f.v : r.fail('expected a quoted field name', f.at))),
      };
    } else if (name === 'offset') q.offset = r.integer();
    else if (name === 'limit') q.limit = r.integer();
    else if (name === 'transitive') q.transitive = true;
    else if (name === 'distinct') {
      const v = r.value(0);
      if (v.t !== 'scalar' || typeof v.v !== 'boolean') r.fail('expected true or false', v.at);
    } else r.fail(`unknown function '.${name}()'`, at);
    r.expect(')');
  }
  r.skip();
  if (r.i < text.length) r.fail('unexpected text after the query');
  return q;
}

/** An object of criteria; `join` is the operator of the array it stands in ('and' at the top). */
function toCriterion(r: Reader, json: Json, join: 'and' | 'or' = 'and'): Criterion {
  if (json.t !== 'object') r.fail('expected an object of criteria', json.at);
  const items: Criterion[] = [];
  for (const [key, value, at] of json.pairs) {
    if (key === '$and' || key === '$or' || key === '$msp') {
      const list = value.t === 'array' ? value.items : [value];
      const kind = key === '$and' ? 'and' : key === '$or' ? 'or' : 'msp';
      items.push({ kind, items: list.map((v) => toCriterion(r, v, kind === 'or' ? 'or' : 'and')) });
      continue;
    }
    if (key.startsWith('$')) r.fail(`unknown operator '${key}' where a field was expected`, at);
    const leaves = comparisons(r, key, value, at);
    // Several operators on one field (`{"size":{"$gt":1,"$lt":9}}`) stay a range, ANDed.
    items.push(leaves.length === 1 ? leaves[0] : { kind: 'and', items: leaves });
  }
  return items.length === 1 ? items[0] : { kind: join, items };
}

/** `"field": value` (equality) or `"field": {"$op": value, …}` (each operator ANDed). */
function comparisons(r: Reader, key: string, value: Json, at: number): Criterion[] {
  const leaf = (op: Operator, v: Json): Criterion => {
    if (v.t !== 'scalar') r.fail(`the value of '${key}' must be a string, a number, true, false or null`, v.at);
    if (key.startsWith('@')) {
      if (key.length === 1) r.fail('a property criterion needs a key after @', at);
      return { kind: 'property', key: key.slice(1), op, value: v.v, at };
    }
    if (key === 'property.key' || key === 'property.value') return { kind: 'property-part', part: key === 'property.key' ? 'key' : 'value', op, value: v.v, at };
    return { kind: 'field', field: key.startsWith('item.') ? key.slice(5) : key, op, value: v.v, at };
  };
  if (value.t !== 'object') return [leaf('$eq', value)];
  if (value.pairs.length === 0) r.fail(`no comparison given for '${key}'`, value.at);
  return value.pairs.map(([op, v, opAt]) => {
    if (!OPERATORS.has(op)) r.fail(`unknown comparison '${op}'`, opAt);
    return leaf(op as Operator, v);
  });
}
