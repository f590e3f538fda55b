import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../helpers/credentials.js';
import { freePort, REPO_ROOT } from '../helpers/node-process.js';

/**
 * Issue 12, item 17: the start commands the README documents start a built checkout at once
 * and never rebuild it (npx on the checkout ran `prepare`, a full rebuild of dist/).
 */

/** Every file of dist/ with its modification time and size. */
function snapshot(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) snapshot(p, out);
    else {
      const st = statSync(p);
      out.set(p, `${st.mtimeMs}:${st.size}`);
    }
  }
  return out;
}

const docs = () => [
  join(REPO_ROOT, 'README.md'),
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(REPO_ROOT, 'docs', n)),
];

/** Commands in code (fenced blocks and inline code) of a Markdown file. */
function codeCommands(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) out.push(...block[1].split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()));
  for (const span of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)) out.push(span[1].trim());
  return out.filter((c) => c !== '');
}

const children: number[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Runs `command` in the checkout as a shell would, and times the first ping answer. */
async function startDocumented(command: string, env: Record<string, string>): Promise<{ ms: number; output: () => string; stop: () => Promise<void> }> {
  const child = spawn('sh', ['-c', command], { cwd: REPO_ROOT, env: { ...process.env, ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const t0 = Date.now();
  const url = `http://127.0.0.1:${env.PORT}/artifactory/api/system/ping`;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() - t0 > 25_000) throw new Error(`'${command}' did not answer ping within 25 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    ms: Date.now() - t0,
    output: () => out,
    async stop() {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

describe('item 17: the documented start commands start a built checkout at once, without rebuilding', () => {
  it('no document or help text starts a node through npx', () => {
    for (const file of docs()) {
      for (const cmd of codeCommands(readFileSync(file, 'utf8'))) expect(cmd, `${file}: ${cmd}`).not.toMatch(/\bnpx\s+arca\b/);
    }
    const help = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'arca.js'), 'help'], { encoding: 'utf8' });
    expect(help.stdout + help.stderr).toMatch(/start/);
    expect(help.stdout + help.stderr).not.toMatch(/npx/);
  });

  it("the README's start commands answer ping quickly and leave dist/ untouched", async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const commands = codeCommands(readme).filter((c) => /(^|\s)start(\s|$)/.test(c) && !/^(curl|cat)\b/.test(c));
    // The quick start (`npm start`) and the "Running a node" command with its options.
    const withOptions = commands.find((c) => c.includes('--home DIR'));
    expect(withOptions, `a start command with --home DIR in README.md: ${JSON.stringify(commands)}`).toBeDefined();
    const quick = commands.find((c) => c !== withOptions && !c.includes('--'));
    expect(quick, 'a quick-start command').toBeDefined();

    const before = snapshot(join(REPO_ROOT, 'dist'));
    for (const [command, setEnv] of [
      [withOptions!, false],
      [quick!, true],
    ] as const) {
      const home = mkdtempSync(join(tmpdir(), 'arca-start-cmd-'));
      try {
        const port = String(await freePort());
        const concrete = setEnv
          ? command
          : command.replace('--home DIR', `--home ${home}`).replace('--port N', `--port ${port}`).replace('--host ADDR', '--host 127.0.0.1').replace('--workers N', '--workers 1');
        const env: Record<string, string> = setEnv ? { ARCA_HOME: home, ARCA_PORT: port, ARCA_HOST: '127.0.0.1', ARCA_WORKERS: '1', PORT: port } : { PORT: port };
        const node = await startDocumented(concrete, env);
        // A start that builds first takes tens of seconds; a built checkout starts in a few.
        expect(node.ms, `${concrete}\n${node.output()}`).toBeLessThan(15_000);
        expect(node.output()).not.toMatch(/> arca@[^\n]* (build|prepare)|tsc -p|UI first load/);
        await node.stop();
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
    expect(snapshot(join(REPO_ROOT, 'dist')), 'dist/ is untouched').toEqual(before);
  });

  it('prepare (npm install, npm pack, npx) builds a fresh or stale checkout and leaves an up-to-date dist/ alone', () => {
    // A checkout of its own, so that the real dist/ is never rebuilt under the running suite.
    const root = mkdtempSync(join(tmpdir(), 'arca-prepare-'));
    try {
      mkdirSync(join(root, 'scripts'));
      mkdirSync(join(root, 'src'));
      copyFileSync(join(REPO_ROOT, 'scripts', 'build-if-stale.mjs'), join(root, 'scripts', 'build-if-stale.mjs'));
      const real = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      const build =
        "const fs=require('fs');fs.mkdirSync('dist/ui',{recursive:true});for(const f of ['dist/arca.mjs','dist/build-info.json','dist/ui/index.html'])fs.writeFileSync(f,String(Date.now()));fs.appendFileSync('builds.log','built\\n')";
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fake', version: '0.0.0', scripts: { prepare: real.scripts.prepare, build: `node -e "${build}"` } }));
      writeFileSync(join(root, 'src', 'a.ts'), 'export {};\n');
      const builds = () => (existsSync(join(root, 'builds.log')) ? readFileSync(join(root, 'builds.log'), 'utf8').split('\n').filter(Boolean).length : 0);
      const prepare = () => {
        const res = spawnSync('npm', ['run', 'prepare'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
        expect(res.status, res.stdout + res.stderr).toBe(0);
        return res.stdout;
      };
      prepare();
      expect(builds(), 'a fresh clone is built').toBe(1);
      const before = snapshot(join(root, 'dist'));
      expect(prepare()).toMatch(/up to date/);
      expect(builds(), 'an up-to-date dist/ is not rebuilt').toBe(1);
      expect(snapshot(join(root, 'dist'))).toEqual(before);
      const later = (Date.now() + 5000) / 1000;
      utimesSync(join(root, 'src', 'a.ts'), later, later);
      prepare();
      expect(builds(), 'a source newer than dist/ rebuilds it').toBe(2);
      expect(real.scripts.pretest, 'npm test still builds first').toBe('npm run build');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
