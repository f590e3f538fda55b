/** The `--scale` table: one row per operation, one column per size, the largest size against the smallest. */
import { fmtNumber } from '../lib/report.js';

export interface OpResult {
  label: string;
  p50: number;
  p99: number;
  n: number;
  errors: number;
  firstError?: string;
}

export interface TaskResult {
  seconds: number;
  /** Files deleted or deployed before the run (what it should cost in proportion to). */
  change: number;
  counts?: Record<string, number>;
  timedOut?: boolean;
  error?: string;
  skipped?: string;
}

export interface SizeResult {
  size: number;
  loadS: number;
  ops: Record<string, OpResult>;
  tasks: Record<string, TaskResult>;
}

export interface DialectResult {
  dialect: string;
  sizes: SizeResult[];
}

/** Largest size against the smallest: within 2× (per changed file where `perChange`). */
const TARGET = 2;

/**
 * With 1 % changed, a cost that follows the change and one that follows the repository grow
 * alike, so those rows are for information (their ratio per changed file); the runs after a
 * fixed 50 files changed tell the two apart and carry the target.
 */
const TASKS: { id: string; label: string; perChange: boolean; info?: boolean }[] = [
  { id: 'gc-1pct', label: 'GC after deleting 1 % of the files [s]', perChange: true, info: true },
  { id: 'gc-fixed', label: 'GC after deleting 50 more files [s]', perChange: false },
  { id: 'backup-full', label: 'backup, first of this size [s]', perChange: false, info: true },
  { id: 'backup-incr', label: 'backup after 1 % new files [s]', perChange: true, info: true },
  { id: 'backup-fixed', label: 'backup after 50 more new files [s]', perChange: false },
];

function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  return len >= n ? s : right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

function taskCell(t: TaskResult | undefined): string {
  if (!t) return '—';
  if (t.skipped) return 'skipped';
  if (t.timedOut) return `> ${Math.round(t.seconds)} s`;
  if (t.error) return 'ERROR';
  return `${fmtNumber(t.seconds, 's')} s`;
}

export function renderScaleTable(r: DialectResult): string {
  const sizes = r.sizes;
  const first = sizes[0];
  const last = sizes[sizes.length - 1];
  const compare = sizes.length > 1;
  const header = [`${r.dialect === 'postgresql' ? 'PostgreSQL' : 'SQLite'}: operation [p50 / p99]`, ...sizes.map((s) => s.size.toLocaleString('en-US')), compare ? `${short(last.size)} vs ${short(first.size)}` : 'ratio', 'Target', 'Result'];
  const rows: string[][] = [];
  const notes: string[] = [];
  const verdict = (ratio: number) => (!compare || !Number.isFinite(ratio) ? 'INFO' : ratio <= TARGET ? 'PASS' : 'MISS');
  for (const id of Object.keys(first?.ops ?? {})) {
    const cells = sizes.map((s) => {
      const o = s.ops[id];
      if (!o) return '—';
      if (o.errors > 0) notes.push(`  ${id} at ${s.size.toLocaleString('en-US')}: ${o.errors} errors, first: ${o.firstError}`);
      return `${fmtNumber(o.p50, 'ms')} / ${fmtNumber(o.p99, 'ms')} ms${o.errors ? ' !' : ''}`;
    });
    const ratio = (last.ops[id]?.p50 ?? NaN) / (first.ops[id]?.p50 ?? NaN);
    rows.push([first.ops[id].label, ...cells, compare ? `×${ratio.toFixed(2)}` : '—', `≤ ${TARGET}×`, verdict(ratio)]);
  }
  for (const t of TASKS) {
    // A run without tasks (--no-tasks, --aql) shows none of their rows.
    if (sizes.every((s) => s.tasks[t.id] === undefined)) continue;
    const a = first?.tasks[t.id];
    const b = last?.tasks[t.id];
    for (const s of sizes) if (s.tasks[t.id]?.error) notes.push(`  ${t.id} at ${s.size.toLocaleString('en-US')}: ${s.tasks[t.id].error}`);
    let ratio = a && b && !b.timedOut && !b.error && !b.skipped ? b.seconds / a.seconds : NaN;
    if (t.perChange) ratio /= (b?.change ?? NaN) / (a?.change ?? NaN);
    const overran = b?.timedOut || b?.skipped;
    rows.push([
      t.label,
      ...sizes.map((s) => taskCell(s.tasks[t.id])),
      compare && Number.isFinite(ratio) ? `×${ratio.toFixed(2)}${t.perChange ? ' per file' : ''}` : '—',
      t.info ? '(info)' : `≤ ${TARGET}×${t.perChange ? ' per file' : ''}`,
      t.info ? 'INFO' : overran && compare ? 'MISS' : verdict(ratio),
    ]);
  }
  rows.push(['bulk load, from the size before [s]', ...sizes.map((s) => `${fmtNumber(s.loadS, 's')} s`), '—', '(info)', 'INFO']);
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((c) => [...c[i]].length)));
  const line = (c: string[]) => c.map((v, i) => pad(v, widths[i], i > 0 && i <= sizes.length + 1)).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const counts = { PASS: 0, MISS: 0 };
  for (const row of rows) if (row[row.length - 1] in counts) counts[row[row.length - 1] as 'PASS' | 'MISS']++;
  out.push(...notes, `${counts.PASS} within ${TARGET}×, ${counts.MISS} not`);
  return out.join('\n');
}

function short(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}
