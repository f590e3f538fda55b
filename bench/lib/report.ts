/** The result rows, their PASS/MISS verdicts and the printed table. */

export type Verdict = 'PASS' | 'MISS' | 'ERROR' | 'INFO';

export interface Target {
  /** `min-ratio`: Arca / reference must be at least `value`; `max`: Arca's figure at most `value`. */
  kind: 'min-ratio' | 'max';
  value: number;
  text: string;
}

export interface Row {
  id: string;
  test: string;
  unit: string;
  /** How the figure was taken from repeated runs (e.g. "median of 3"). */
  statistic: string;
  arca?: number;
  reference?: { name: string; value: number };
  ratio?: number;
  target?: Target;
  verdict: Verdict;
  /** Share of the machine's CPU used by processes outside the benchmark while Arca / the reference ran. */
  othersCpu?: { arca?: number; reference?: number };
  note?: string;
  error?: string;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function verdictOf(row: Omit<Row, 'verdict'>): Verdict {
  if (row.error) return 'ERROR';
  if (!row.target) return 'INFO';
  if (row.arca === undefined || !Number.isFinite(row.arca)) return 'ERROR';
  if (row.target.kind === 'max') return row.arca <= row.target.value ? 'PASS' : 'MISS';
  if (row.ratio === undefined || !Number.isFinite(row.ratio)) return 'ERROR';
  return row.ratio >= row.target.value ? 'PASS' : 'MISS';
}

export function makeRow(r: Omit<Row, 'verdict' | 'ratio'>): Row {
  // A ratio only means something against a reference to match, not against an absolute limit.
  const comparable = r.target?.kind !== 'max' && r.arca !== undefined && r.reference !== undefined && r.reference.value > 0;
  const ratio = comparable ? r.arca! / r.reference!.value : undefined;
  const row = { ...r, ratio };
  return { ...row, verdict: verdictOf(row) };
}

export function fmtNumber(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—';
  if (unit === 's') return v.toFixed(2);
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  if (len >= n) return s;
  return right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

/** One fixed-width table: test, Arca, reference, ratio, target, result. */
export function renderTable(rows: Row[]): string {
  const header = ['Test', 'Arca', 'Reference', 'Ratio', 'Target', 'Result', "Others' CPU"];
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v * 100)} %`);
  const cells = rows.map((r) => [
    `${r.test} [${r.unit}${r.statistic ? `, ${r.statistic}` : ''}]`,
    r.arca !== undefined ? `${fmtNumber(r.arca, r.unit)} ${r.unit}` : '—',
    r.reference ? `${r.reference.name} ${fmtNumber(r.reference.value, r.unit)} ${r.unit}` : '—',
    r.ratio !== undefined ? `${(r.ratio * 100).toFixed(1)} %` : '—',
    r.target?.text ?? '(info)',
    r.verdict,
    r.othersCpu ? (r.reference && r.target?.kind !== 'max' ? `${pct(r.othersCpu.arca)} / ${pct(r.othersCpu.reference)}` : pct(r.othersCpu.arca)) : '',
  ]);
  const widths = header.map((h, i) => Math.max([...h].length, ...cells.map((c) => [...c[i]].length)));
  const right = [false, true, true, true, false, false, false];
  const line = (c: string[]) => c.map((v, i) => pad(v, widths[i], right[i])).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(header), rule, ...cells.map(line)];
  const errors = rows.filter((r) => r.error);
  for (const r of errors) out.push(`  ${r.id}: ERROR ${r.error}`);
  return out.join('\n');
}
