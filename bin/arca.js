#!/usr/bin/env node
import { main } from '../dist/arca.mjs';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`arca: ${err && err.message ? err.message : err}`);
    // A worker keeps its IPC channel open: exit explicitly.
    process.exit(1);
  },
);
