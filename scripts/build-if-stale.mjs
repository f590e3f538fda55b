// `npm install`'s prepare step: builds dist/ unless it is complete and newer than every
// input (src/, scripts/, package.json, the lock file, the TypeScript and Vite configs).
// A checkout that is already built is left alone, so nothing that runs `prepare` (npm
// install, npm pack, npx on the folder) rebuilds dist/ under a running node.
// `npm run build` (and `npm test`'s pretest) always build.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const OUTPUTS = ['dist/arca.mjs', 'dist/build-info.json', 'dist/ui/index.html'];
const INPUTS = ['src', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'vite.config.ts'];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of a file or of any file under a directory. */
function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const outputs = OUTPUTS.map((p) => mtime(join(root, p)));
const built = outputs.every((t) => t !== undefined) ? Math.min(...outputs) : undefined;
const input = Math.max(...INPUTS.map((p) => newest(join(root, p))));
if (built !== undefined && built >= input && process.env.ARCA_FORCE_BUILD !== '1') {
  console.log('arca: dist/ is up to date with src/; not rebuilding (npm run build forces a build)');
} else {
  console.log(built === undefined ? 'arca: building dist/' : 'arca: dist/ is older than its sources; rebuilding');
  const res = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exitCode = res.status ?? 1;
}
