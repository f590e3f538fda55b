// Bundles the CLI and everything it imports into dist/ (see bundle-options.mjs for how).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { bundleOptions } from './bundle-options.mjs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build(bundleOptions(outdir));
