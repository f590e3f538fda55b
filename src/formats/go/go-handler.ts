import { createHash } from 'node:crypto';
import { ArcaError } from '../../core/errors.js';
import type { FormatHandler } from '../format-handler.js';
import { checkInfo, filePath, goModModulePath, MAX_GO_MOD, MAX_INFO, parseFilePath, synthesizedGoMod, type GoFile } from './go-files.js';
import { checkModuleZip, MAX_MODULE_ZIP } from './module-zip.js';

/**
 * Go modules in the shared framework. A local repository holds each version as the module
 * proxy serves it, `{module}/@v/{version}.zip|.mod|.info` (escaped, see go-files.ts), deployed
 * one file at a time as `jf go-publish` does (zip, then mod, then info), through the GOPROXY
 * URL or the plain artifact API alike. Every deploy is checked before it is stored: the
 * path's module and version, the zip's entries, the go.mod naming the module and equal to
 * the zip's own, the .info naming the version. A version, once stored, is immutable (the
 * checksum database and every go.sum remember its hashes): the same bytes again are taken,
 * different ones refused. Version lists and `@latest` are read from the items, never stored
 * in a local repository.
 */

function bad(reason: string): ArcaError {
  return new ArcaError('BAD_REQUEST', reason);
}

/** The go.mod a zip stands for: its own, or the one Go makes up when it has none. */
async function zipGoMod(f: GoFile, zip: Buffer): Promise<Buffer> {
  const checked = await checkModuleZip(zip, f.module, f.version);
  // A stored zip passed this check when it was deployed.
  if (!checked.ok) throw new ArcaError('CONFLICT', `The stored zip of ${f.module}@${f.version} is not a valid module zip: ${checked.reason}`);
  return checked.value.goMod ?? synthesizedGoMod(f.module);
}

export const goHandler: FormatHandler = {
  packageTypes: ['go'],

  classify(path) {
    return path.endsWith('/@v/list') || path.endsWith('/@latest') ? 'metadata' : 'artifact';
  },

  inspectLimit(path) {
    if (path.endsWith('.zip')) return MAX_MODULE_ZIP;
    if (path.endsWith('.mod')) return MAX_GO_MOD;
    if (path.endsWith('.info')) return MAX_INFO;
    return undefined;
  },

  async beforeDeploy({ path, content, store }) {
    const parsed = parseFilePath(path);
    if (!parsed.ok) throw bad(parsed.reason);
    const f = parsed.value;
    if (!content) throw bad('A Go module file must be deployed with its content (checksum deploys are not supported)');
    const stored = await store.stat(path);
    if (stored) {
      if (stored.sha1 === createHash('sha1').update(content).digest('hex')) return;
      throw new ArcaError('CONFLICT', `${f.module}@${f.version} already has a different .${f.ext}: module versions are immutable (delete the version first)`);
    }
    if (f.ext === 'info') {
      const info = checkInfo(content, f.version);
      if (!info.ok) throw bad(info.reason);
      return;
    }
    let goMod: Buffer;
    if (f.ext === 'zip') {
      const checked = await checkModuleZip(content, f.module, f.version);
      if (!checked.ok) throw bad(checked.reason);
      goMod = checked.value.goMod ?? synthesizedGoMod(f.module);
    } else {
      goMod = content;
      const declared = goModModulePath(content);
      if (declared !== f.module) throw bad(`The go.mod declares module '${declared ?? '(none)'}', not '${f.module}'`);
    }
    // Whichever of the zip and the go.mod comes second is compared with the first.
    if (f.ext === 'zip') {
      const mod = await store.read(filePath(f.module, f.version, 'mod'));
      if (mod && !mod.equals(goMod)) throw bad(`The zip's go.mod differs from the stored ${f.module}@${f.version} .mod`);
    } else {
      const zip = await store.read(filePath(f.module, f.version, 'zip'));
      if (zip && !(await zipGoMod(f, zip)).equals(goMod)) throw bad(`The .mod differs from the go.mod in the stored ${f.module}@${f.version} zip`);
    }
  },
};
