import { existsSync, readFileSync } from 'node:fs';
import type { VersionInfo } from '../http/app-context.js';

/** Version, revision and release date, from dist/build-info.json (written by the build). */
export function readVersionInfo(): VersionInfo {
  // Bundled: dist/arca.mjs or dist/chunks/*.mjs; from sources: src/node/context.ts.
  const candidates = ['./build-info.json', '../build-info.json', '../../dist/build-info.json'].map((p) => new URL(p, import.meta.url));
  for (const c of candidates) {
    if (existsSync(c)) return JSON.parse(readFileSync(c, 'utf8')) as VersionInfo;
  }
  const pkgFile = ['../package.json', '../../package.json'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u));
  const pkg = pkgFile ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }) : { version: '0.0.0' };
  return { version: pkg.version, revision: 'dev', releaseDate: new Date(0).toISOString() };
}
