import pg from 'pg';

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan, the fields the plan tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** A statement a pg client sent: its text and parameters. */
export interface Recorded {
  text: string;
  values: unknown[];
}

/** Every statement the pg clients of this process send while `work` runs. */
export async function recording(work: () => Promise<void>): Promise<Recorded[]> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const out: Recorded[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    if (typeof first === 'string') out.push({ text: first, values: Array.isArray(second) ? second : [] });
    else if (first && typeof first === 'object' && 'text' in first) {
      const q = first as { text: string; values?: unknown[] };
      out.push({ text: q.text, values: q.values ?? [] });
    }
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return out;
}

/** A plan as indented lines: node type, relation, index, and the actual rows, loops and rows filtered out. */
export function planText(node: PlanNode, depth = 0): string {
  const name = `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`;
  const rows = node['Actual Rows'] !== undefined ? ` (rows=${node['Actual Rows']} loops=${node['Actual Loops']} removed=${node['Rows Removed by Filter'] ?? 0})` : '';
  return [`${'  '.repeat(depth)}${name}${rows}`, ...(node.Plans ?? []).map((c) => planText(c, depth + 1))].join('\n');
}
