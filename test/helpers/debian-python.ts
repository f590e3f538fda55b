import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Python clients exactly as Debian 12 ships them: `/usr/bin/python3` with the pip of the
 * `python3-pip` package (23.0.1, in /usr/lib/python3/dist-packages) and `/usr/bin/twine`
 * (4.0.2). A venv made with `--system-site-packages --without-pip` gets no pip of its own,
 * so `python -m pip` there runs Debian's. The current pip is whatever `pip` is on PATH.
 */

export const SYSTEM_PYTHON = '/usr/bin/python3';
export const DEBIAN_PIP_DIR = '/usr/lib/python3/dist-packages/pip';
export const DEBIAN_TWINE = '/usr/bin/twine';

export interface RunResult {
  code: number;
  out: string;
}

/** Runs a command without a shell; never rejects (the exit code and both streams come back). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 120_000, env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

/** What is missing of Debian's Python clients, or undefined when all are installed. */
export function missingDebianClients(): string | undefined {
  for (const path of [SYSTEM_PYTHON, DEBIAN_PIP_DIR, DEBIAN_TWINE]) if (!existsSync(path)) return `${path} is not installed (apt-get install python3-pip python3-venv twine)`;
  return undefined;
}

/**
 * A venv of the system Python whose `python -m pip` is Debian's pip 23.0.1 (checked).
 * Returns the venv's python.
 */
export function debianPipVenv(dir: string): { python: string; version: string } {
  execFileSync(SYSTEM_PYTHON, ['-m', 'venv', '--system-site-packages', '--without-pip', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const python = join(dir, 'bin', 'python');
  const version = execFileSync(python, ['-m', 'pip', '--version'], { encoding: 'utf8' }).trim();
  return { python, version };
}
