import { zipOf } from './stored-zip.js';

/**
 * Go module files for the tests, laid out as `jf go-publish` deploys them: the module zip
 * (every file under `{module}@{version}/`, as `go mod download` unpacks it), the go.mod and
 * the .info (the zip by `zipOf`, which can also write what a hostile client would: names
 * outside the prefix, a central directory that disagrees with the local headers).
 */

export interface GoModule {
  zip: Buffer;
  mod: Buffer;
  info: Buffer;
}

/**
 * A module version's three files: a package `files` (relative name → content) plus its go.mod
 * (`module {path}` and the go directive) in the zip, the same go.mod as the .mod file.
 */
export function goModule(module: string, version: string, files: Record<string, string>, time = '2024-01-02T03:04:05Z'): GoModule {
  const mod = Buffer.from(`module ${module}\n\ngo 1.19\n`);
  const prefix = `${module}@${version}/`;
  const zip = zipOf([{ name: `${prefix}go.mod`, data: mod, deflate: true }, ...Object.entries(files).map(([name, data]) => ({ name: `${prefix}${name}`, data, deflate: true }))]);
  return { zip, mod, info: Buffer.from(JSON.stringify({ Version: version, Time: time })) };
}

/** The `!`-escaping of module paths and versions in GOPROXY URLs. */
export function goEscape(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}
