// Writes dist/build-info.json (version, revision, release date) after the TypeScript build.
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let revision = process.env.ARCA_REVISION ?? 'dev';
try {
  revision = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || revision;
} catch {
  // not a git checkout: keep the default
}
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../dist/build-info.json', import.meta.url),
  JSON.stringify({ version: pkg.version, revision, releaseDate: new Date().toISOString() }, null, 2) + '\n',
);
