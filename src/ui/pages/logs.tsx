import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { ErrorBox, Field, Loading, Page } from '../components/common';
import { useAsync } from '../components/hooks';

interface LogTail {
  node: string;
  file: string;
  size: number;
  lines: string[];
  truncated: boolean;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A pino JSON line as `time level message key=value…`; other lines as they are. */
export function formatLine(line: string): { text: string; level?: string } {
  if (!line.startsWith('{')) return { text: line };
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, pid: _pid, hostname: _host, ...rest } = o;
    const lvl = typeof level === 'number' ? (LEVELS[level] ?? String(level)) : String(level ?? '');
    const when = typeof time === 'number' || typeof time === 'string' ? new Date(time).toISOString() : '';
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    return { text: `${when} ${lvl.toUpperCase().padEnd(5)} ${String(msg ?? '')}${extra ? `  ${extra}` : ''}`, level: lvl };
  } catch {
    return { text: line };
  }
}

/** Each node's log tail (the answering node asks the chosen one), with a filter and auto-refresh. */
export default function LogsPage() {
  const nodes = useAsync((signal) => api<{ nodes: Array<{ id: string; state: string }> }>('/artifactory/api/system/status', { signal }), 'log-nodes');
  const [node, setNode] = useState('');
  const [file, setFile] = useState('arca.log');
  const [lines, setLines] = useState('200');
  const [filter, setFilter] = useState('');
  const [live, setLive] = useState(true);
  const chosen = node || nodes.data?.nodes[0]?.id || '';
  const tail = useAsync(
    (signal) => api<LogTail>(`/artifactory/api/system/logs?${new URLSearchParams({ ...(chosen ? { node: chosen } : {}), file, lines }).toString()}`, { signal }),
    `logs:${chosen}:${file}:${lines}`,
    live ? 5000 : undefined,
  );
  const pre = useRef<HTMLPreElement>(null);
  // The newest lines are at the bottom: follow them on each refresh, unless the reader scrolled up.
  useEffect(() => {
    const el = pre.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [chosen, file, tail.data !== undefined]);
  const shown = (tail.data?.lines ?? []).map(formatLine).filter((l) => !filter || l.text.toLowerCase().includes(filter.toLowerCase()));
  return (
    <Page title="Logs">
      <div className="toolbar">
        <Field id="log-node" label="Node">
          <select id="log-node" value={chosen} onChange={(e) => setNode(e.target.value)}>
            {(nodes.data?.nodes ?? []).map((n) => (
              <option key={n.id} value={n.id}>
                {n.id} ({n.state})
              </option>
            ))}
          </select>
        </Field>
        <Field id="log-file" label="File">
          <select id="log-file" value={file} onChange={(e) => setFile(e.target.value)}>
            <option>arca.log</option>
            <option>request.log</option>
          </select>
        </Field>
        <Field id="log-lines" label="Lines">
          <select id="log-lines" value={lines} onChange={(e) => setLines(e.target.value)}>
            {['100', '200', '500', '1000', '5000'].map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </Field>
        <Field id="log-filter" label="Filter">
          <input id="log-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </Field>
        <label className="inline">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
          Refresh every 5 s
        </label>
        <button type="button" onClick={tail.reload}>
          Refresh now
        </button>
      </div>
      <ErrorBox error={nodes.error ?? tail.error} />
      <Loading when={tail.loading && !tail.data} />
      {tail.data && (
        <>
          <p className="muted">
            {tail.data.node}: logs/{tail.data.file}, {tail.data.size} bytes{tail.data.truncated ? `, last ${tail.data.lines.length} lines` : ''}
            {filter ? `, ${shown.length} matching` : ''}.
          </p>
          <pre ref={pre} className="log" data-testid="log-lines" tabIndex={0} aria-label={`Log of ${tail.data.node}`}>
            {shown.map((l, i) => (
              <div key={i} className={l.level ? `lvl-${l.level}` : undefined}>
                {l.text}
              </div>
            ))}
          </pre>
        </>
      )}
    </Page>
  );
}
