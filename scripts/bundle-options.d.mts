import type { BuildOptions } from 'esbuild';

/** The esbuild options of dist/ (bundle-options.mjs). */
export function bundleOptions(outdir: string): BuildOptions & { entryPoints: Record<string, string> };
