import { isBuiltin } from 'node:module';
import { build, type Metafile, type OutputFile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions } from '../../scripts/bundle-options.mjs';

/**
 * What each process of a node loads, from the bundle dist/ is built with (esbuild's
 * metafile, the same options as `npm run build`): a module is in a process when the chunk it
 * lands in is reachable by static imports from where the process starts. A static import
 * added in the wrong place (the supervisor reaching the app, a worker loading a cloud SDK
 * at start) makes every process of every node pay for it in memory (docs/performance.md,
 * "Memory").
 */

let meta: Metafile;
let files: OutputFile[];

/** The chunks a process loads from `start` before any dynamic import runs. */
function staticClosure(start: string): string[] {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const chunk = queue.pop()!;
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    for (const i of meta.outputs[chunk].imports) if (!i.external && i.kind !== 'dynamic-import') queue.push(i.path);
  }
  return [...seen];
}

/** The source files and packages in `chunks`, and the external modules they import. */
function contents(chunks: string[]) {
  const sources = new Set<string>();
  const packages = new Set<string>();
  let bytes = 0;
  for (const c of chunks) {
    bytes += meta.outputs[c].bytes;
    for (const input of Object.keys(meta.outputs[c].inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (pkg) packages.add(pkg[1]);
      else sources.add(input.replace(/^.*?(src\/)/, '$1'));
    }
  }
  const externals = new Set(chunks.flatMap((c) => meta.outputs[c].imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path)));
  return { sources: [...sources].sort(), packages: [...packages].sort(), externals: [...externals], bytes };
}

const chunkNamed = (re: RegExp) => {
  const found = Object.keys(meta.outputs).filter((k) => re.test(k));
  expect(found, `one output matching ${re}`).toHaveLength(1);
  return found[0];
};

beforeAll(async () => {
  const result = await build({ ...bundleOptions('/tmp/arca-process-graph'), metafile: true, write: false, sourcemap: false, logLevel: 'error' });
  meta = result.metafile;
  files = result.outputFiles;
}, 120_000);

describe('the modules each process loads', () => {
  it('the supervisor (arca start) loads the CLI, the supervisor and reading system.yaml: nothing of the application', () => {
    const entry = contents(staticClosure(chunkNamed(/(^|\/)arca\.mjs$/)));
    const app = entry.sources.filter((s) => /^src\/(http|services|formats|security|cluster|content|db|binstore|ui)\//.test(s));
    expect(app, 'application modules in the supervisor').toEqual([]);
    expect(entry.packages, 'packages in the supervisor').toEqual(['yaml']);
    expect(entry.externals, 'native modules in the supervisor').toEqual([]);
    // About 190 KB today; the bound leaves room for the CLI, not for a framework.
    expect(entry.bytes).toBeLessThan(300_000);
  });

  it('the supervisor reaches the HTTP server only through the dynamic import a worker makes', () => {
    const server = chunkNamed(/server-[^/]*\.mjs$/);
    expect(staticClosure(chunkNamed(/(^|\/)arca\.mjs$/))).not.toContain(server);
    const entryImports = meta.outputs[chunkNamed(/(^|\/)arca\.mjs$/)].imports;
    expect(entryImports.some((i) => i.path === server && i.kind === 'dynamic-import')).toBe(true);
  });

  it('a worker loads no cloud SDK and no other database driver than SQLite until its configuration asks for one', () => {
    const worker = contents(staticClosure(chunkNamed(/server-[^/]*\.mjs$/)));
    const lazy = worker.packages.filter((p) => /^(@aws-sdk|@azure|@smithy|mysql2|pg|pg-.*)(\/|$)/.test(p));
    expect(lazy, 'packages a worker should load on demand').toEqual([]);
    expect(worker.externals, 'native modules').toEqual(['better-sqlite3']);
  });

  it('no loaded text holds a character beyond Latin-1 (V8 would store the whole module with two bytes a character)', () => {
    const wide = files.filter((f) => f.path.endsWith('.mjs') && /[^\x00-\xff]/.test(f.text)).map((f) => f.path);
    expect(wide).toEqual([]);
  });
});
