// The esbuild options of dist/ (scripts/bundle.mjs), shared with the test that checks which
// modules each process loads (test/architecture/process-graph.test.ts).
const root = new URL('../', import.meta.url).pathname;

/**
 * ESM, split at dynamic imports, so a process loads a few files instead of hundreds of
 * modules (start-up is mostly module loading) and only what its code path reaches: the
 * supervisor its own small part, a worker the HTTP server, a cloud SDK only when a provider
 * of its kind is configured.
 *
 * Whitespace and syntax are minified (identifiers are not, so stack traces keep their
 * function names; `node --enable-source-maps` maps them back to src/ through the .map
 * files). V8 keeps the source text of every loaded module in the heap of every process, and
 * a text with one character beyond Latin-1 (a `—` in a comment) is stored with two bytes per
 * character: unminified, the sources cost a worker about 12 MB; minified, about 3 MB
 * (docs/performance.md, "Memory").
 */
export function bundleOptions(outdir) {
  return {
    // The listing thread of a SQLite worker (src/services/listing/) is an entry of its own:
    // dist/listing-thread.mjs, loaded by `new Worker` and sharing the chunks it needs.
    entryPoints: { arca: `${root}src/cli/main.ts`, 'listing-thread': `${root}src/services/listing/listing-thread.ts` },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    // Native addons and optional native drivers stay outside the bundle.
    external: ['better-sqlite3', 'pg-native'],
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __arcaRequire } from 'node:module'; const require = __arcaRequire(import.meta.url);" },
    logLevel: 'warning',
  };
}
