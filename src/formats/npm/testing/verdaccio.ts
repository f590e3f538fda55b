/**
 * Verdaccio as a reference npm registry for the e2e tests and the benchmark: a config with
 * its own storage, no uplinks (the public registry is unreachable), htpasswd users, listening
 * on 127.0.0.1, JWT API tokens. The caller spawns the process (so it can own its lifetime).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..', '..');
export const VERDACCIO_BIN = join(ROOT, 'node_modules', '.bin', 'verdaccio');

export function verdaccioInstalled(): boolean {
  return existsSync(VERDACCIO_BIN);
}

export interface VerdaccioSetup {
  url: string;
  /** Command and arguments to spawn. */
  command: string;
  args: string[];
}

/** Writes the config under `dir` and returns how to start Verdaccio on `port`. */
export function verdaccioSetup(dir: string, port: number): VerdaccioSetup {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      '    max_users: 1000',
      'uplinks: {}',
      'packages:',
      "  '@*/*':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      'server:',
      '  keepAliveTimeout: 60',
      // JWT API tokens: checked with an HMAC per request (the legacy tokens re-run the
      // htpasswd bcrypt check on every request, which would make Verdaccio look far slower).
      'security:',
      '  api:',
      '    jwt:',
      '      sign:',
      '        expiresIn: 7d',
      'middlewares:',
      '  audit:',
      '    enabled: true',
      'web:',
      '  enable: false',
      'log:',
      '  type: stdout',
      '  format: pretty',
      '  level: warn',
      '',
    ].join('\n'),
  );
  return { url: `http://127.0.0.1:${port}`, command: VERDACCIO_BIN, args: ['--config', config, '--listen', `127.0.0.1:${port}`] };
}

/** Polls `/-/ping` until Verdaccio answers. */
export async function waitForRegistry(url: string, timeoutMs = 60_000, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`the registry at ${url} exited before it answered ping`);
    try {
      const res = await fetch(`${url}/-/ping`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the registry at ${url} did not answer ping within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates a Verdaccio user (htpasswd) and returns its token. */
export async function verdaccioAddUser(url: string, name: string, password: string): Promise<string> {
  const res = await fetch(`${url}/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const body = (await res.json()) as { token?: string; error?: string };
  if (!res.ok || !body.token) throw new Error(`Verdaccio adduser ${name}: HTTP ${res.status} ${body.error ?? ''}`);
  return body.token;
}
