// Bundles the CLI and everything it imports into dist/ (ESM, split at dynamic imports), so a
// process loads a few files instead of hundreds of modules: start-up is mostly module loading.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { arca: new URL('../src/cli/main.ts', import.meta.url).pathname },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  // Native addons and optional native drivers stay outside the bundle.
  external: ['better-sqlite3', 'pg-native'],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __arcaRequire } from 'node:module'; const require = __arcaRequire(import.meta.url);" },
  logLevel: 'warning',
});
