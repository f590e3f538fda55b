#!/usr/bin/env node
// Runs the built CLI (dist/arca.mjs) and never builds: `npm run build` does that.
let cli;
try {
  cli = await import('../dist/arca.mjs');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/arca.mjs')) {
    console.error('arca: dist/arca.mjs is missing: run `npm install` (or `npm run build`) in the checkout first');
    process.exit(1);
  }
  throw err;
}

cli.main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`arca: ${err && err.message ? err.message : err}`);
    // A worker keeps its IPC channel open: exit explicitly.
    process.exit(1);
  },
);
