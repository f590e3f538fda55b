// Builds the web UI (src/ui) into dist/ui with Vite, after type-checking it with its own
// tsconfig, then prints the gzipped size of the JavaScript the first page loads (the entry
// script and the modules index.html preloads) and fails when it exceeds the budget. Text assets
// get a .gz sibling, which the node serves to clients that accept gzip (src/http/routes/ui/static.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const BUDGET_BYTES = 300 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'ui');

const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'src', 'ui', 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build-ui: the UI does not type-check (tsc -p src/ui/tsconfig.json)');
  process.exit(1);
}

await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const gzipped = new Map();
for (const file of walk(outDir)) {
  if (!/\.(js|css|html|svg|json|txt|map)$/.test(file)) continue;
  const gz = gzipSync(readFileSync(file), { level: 9 });
  gzipped.set(file, gz.length);
  writeFileSync(`${file}.gz`, gz);
}

// What index.html loads before the first page shows: module scripts and module preloads.
const html = readFileSync(join(outDir, 'index.html'), 'utf8');
const firstLoad = new Set();
for (const m of html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)) firstLoad.add(m[1]);
for (const m of html.matchAll(/<link[^>]*\shref="([^"]+\.js)"[^>]*rel="modulepreload"/g)) firstLoad.add(m[1]);
if (firstLoad.size === 0) {
  console.error('build-ui: no script found in dist/ui/index.html');
  process.exit(1);
}
let total = 0;
for (const src of firstLoad) {
  const file = join(outDir, src.replace(/^\/ui\//, ''));
  const size = gzipped.get(file);
  if (size === undefined) {
    console.error(`build-ui: index.html loads ${src}, which the build did not produce`);
    process.exit(1);
  }
  total += size;
  console.log(`  ${src}  ${(size / 1024).toFixed(1)} KB gzipped`);
}
const all = [...gzipped].filter(([f]) => f.endsWith('.js')).reduce((n, [, s]) => n + s, 0);
console.log(`UI first load: ${(total / 1024).toFixed(1)} KB of gzipped JavaScript (budget ${BUDGET_BYTES / 1024} KB; all pages ${(all / 1024).toFixed(1)} KB)`);
if (total > BUDGET_BYTES) {
  console.error(`build-ui: the first load is over the ${BUDGET_BYTES / 1024} KB budget`);
  process.exit(1);
}
