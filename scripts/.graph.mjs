import { build } from 'esbuild';
import { bundleOptions } from './bundle-options.mjs';
const r = await build({ ...bundleOptions('/tmp/mem/dist4'), metafile: true, write: false });
const outs = r.metafile.outputs;
function closure(start) { const seen = new Set(); const q = [start]; while (q.length) { const f = q.pop(); if (seen.has(f) || !outs[f]) continue; seen.add(f); for (const i of outs[f].imports) if (!i.external && i.kind !== 'dynamic-import') q.push(i.path); } return seen; }
const entry = Object.keys(outs).find((k) => k.endsWith('/arca.mjs'));
const server = Object.keys(outs).find((k) => /server-[^/]*\.mjs$/.test(k));
for (const [label, start] of [['entry', entry], ['server', server]]) {
  const c = closure(start); let tot = 0; const pk = {};
  for (const f of c) { tot += outs[f].bytes; for (const [p, v] of Object.entries(outs[f].inputs)) { const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p); const k = m ? m[1] : p.split('/').slice(0, 2).join('/'); pk[k] = (pk[k] ?? 0) + v.bytesInOutput; } }
  console.log('==', label, (tot / 1024).toFixed(0), 'k:', Object.entries(pk).sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, v]) => `${k}:${(v / 1024).toFixed(0)}k`).join(' '));
}
