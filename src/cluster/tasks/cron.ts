/**
 * Cron expressions for cluster task schedules, evaluated in UTC so every node agrees:
 *
 * - 6 or 7 fields, as the seed's product writes them (Quartz): `sec min hour day-of-month
 *   month day-of-week [year]`, day-of-week 1-7 = SUN-SAT, e.g. `0 0 /4 * * ?` (every 4 h);
 * - 5 fields (Unix): `min hour day-of-month month day-of-week`, day-of-week 0-7 (0 and 7 = SUN).
 *
 * Each field takes `*`, `?` (same as `*`), numbers, ranges `a-b`, lists `a,b`, steps `*\/n`,
 * `a/n`, `a-b/n` and `/n` (= `*\/n`), and the names JAN-DEC and SUN-SAT. When both day fields
 * are restricted a day matching either one matches (Unix rule). `L`, `W` and `#` are refused.
 */
export interface Cron {
  source: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday. */
  daysOfWeek: Set<number>;
  years?: Set<number>;
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

export class CronError extends Error {}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  what: string;
  min: number;
  max: number;
  names?: string[];
  /** The number the first name stands for. */
  nameBase?: number;
}

function parseField(text: string, spec: FieldSpec, source: string): { values: number[]; any: boolean } {
  const bad = (why: string) => new CronError(`Invalid cron expression '${source}': ${spec.what} '${text}' ${why}`);
  if (/[LW#]/i.test(text)) throw bad('uses L, W or #, which are not supported');
  const value = (v: string): number => {
    const upper = v.toUpperCase();
    const named = spec.names?.indexOf(upper) ?? -1;
    if (named >= 0) return named + (spec.nameBase ?? 0);
    if (!/^\d+$/.test(v)) throw bad(`has '${v}', which is not a number${spec.names ? ' or a name' : ''}`);
    const n = Number(v);
    if (n < spec.min || n > spec.max) throw bad(`has ${n}, outside ${spec.min}-${spec.max}`);
    return n;
  };
  if (text === '*' || text === '?') return { values: range(spec.min, spec.max, 1), any: true };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw bad('has an empty list item');
    const [base, stepText, extra] = part.split('/');
    if (extra !== undefined) throw bad('has two steps');
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw bad(`has step '${stepText}'`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (base === '*' || base === '?' || base === '') {
      if (base === '' && stepText === undefined) throw bad('is empty');
      [lo, hi] = [spec.min, spec.max];
    } else if (base.includes('-')) {
      const [a, b] = base.split('-');
      [lo, hi] = [value(a), value(b)];
      if (lo > hi) throw bad(`has the range ${a}-${b}, which runs backwards`);
    } else {
      lo = value(base);
      hi = stepText === undefined ? lo : spec.max;
    }
    for (const v of range(lo, hi, step)) out.add(v);
  }
  return { values: [...out].sort((x, y) => x - y), any: false };
}

function range(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

export function parseCron(expression: string): Cron {
  const source = expression.trim();
  const fields = source.split(/\s+/);
  if (fields.length < 5 || fields.length > 7) {
    throw new CronError(`Invalid cron expression '${source}': expected 5 (Unix) or 6-7 (seconds first) fields, got ${fields.length}`);
  }
  const unix = fields.length === 5;
  const [sec, min, hour, dom, mon, dow, year] = unix ? ['0', ...fields] : fields;
  const dowField = parseField(dow, unix ? { what: 'day of week', min: 0, max: 7, names: DAYS } : { what: 'day of week', min: 1, max: 7, names: DAYS, nameBase: 1 }, source);
  const cron: Cron = {
    source,
    seconds: parseField(sec, { what: 'second', min: 0, max: 59 }, source).values,
    minutes: parseField(min, { what: 'minute', min: 0, max: 59 }, source).values,
    hours: parseField(hour, { what: 'hour', min: 0, max: 23 }, source).values,
    daysOfMonth: new Set(parseField(dom, { what: 'day of month', min: 1, max: 31 }, source).values),
    months: new Set(parseField(mon, { what: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 }, source).values),
    daysOfWeek: new Set(dowField.values.map((d) => (unix ? d % 7 : d - 1))),
    anyDayOfMonth: dom === '*' || dom === '?',
    anyDayOfWeek: dowField.any,
  };
  if (year !== undefined && year !== '*' && year !== '?') {
    cron.years = new Set(parseField(year, { what: 'year', min: 1970, max: 2199 }, source).values);
  }
  // An expression that never fires (30 February) is an error now rather than a silent schedule.
  nextCronTime(cron, Date.UTC(2000, 0, 1), 200);
  return cron;
}

function dayMatches(c: Cron, d: Date): boolean {
  if (!c.months.has(d.getUTCMonth() + 1)) return false;
  if (c.years && !c.years.has(d.getUTCFullYear())) return false;
  const dom = c.daysOfMonth.has(d.getUTCDate());
  const dow = c.daysOfWeek.has(d.getUTCDay());
  if (c.anyDayOfMonth && c.anyDayOfWeek) return true;
  if (c.anyDayOfMonth) return dow;
  if (c.anyDayOfWeek) return dom;
  return dom || dow;
}

const DAY = 86_400_000;

/** The first time strictly after `after` (epoch ms) that the expression matches, in whole seconds. */
export function nextCronTime(c: Cron, after: number, withinYears = 9): number {
  const from = Math.floor(after / 1000) * 1000 + 1000;
  const start = new Date(from);
  const firstDay = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  for (let day = firstDay, i = 0; i < withinYears * 366; i++, day += DAY) {
    if (!dayMatches(c, new Date(day))) continue;
    const floor = day === firstDay ? (from - day) / 1000 : 0;
    for (const h of c.hours) {
      if ((h + 1) * 3600 <= floor) continue;
      for (const m of c.minutes) {
        if (h * 3600 + (m + 1) * 60 <= floor) continue;
        for (const s of c.seconds) {
          const at = h * 3600 + m * 60 + s;
          if (at >= floor) return day + at * 1000;
        }
      }
    }
  }
  throw new CronError(`Cron expression '${c.source}' matches no time within ${withinYears} years`);
}
