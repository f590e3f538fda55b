import { ArcaError } from '../../core/errors.js';
import type { FormatHandler, RepoStore } from '../format-handler.js';
import { readGem, readGemSpec, type GemSpec } from './gem-file.js';
import { fullNameOfGemPath, fullNameCandidates, gemPath, infoPath, isIndexPath, QUICK_FOLDER, quickPath, VERSIONS_PATH } from './gem-layout.js';
import { compactVersions, infoKeys, infoLine, md5Hex, newVersionsFile, quickSpec, updateInfo, versionsLine } from './index-files.js';
import { versionAndPlatform } from './names.js';

/**
 * RubyGems in the shared framework. A gem is deployed at `gems/{full}.gem` (by `gem push`
 * or a plain PUT); before it is stored the whole archive is checked and its spec must match
 * the file name. After a deploy or delete, the gem's own index entries are brought up to
 * date under the repository's metadata lock: its quick spec, its `info/{name}` and one line
 * appended to `versions`. Nothing is rebuilt from the other gems, except when a folder
 * holding gems (or an index file) is deleted.
 */

/** The largest .gem accepted (it is read into memory to be checked). */
export const MAX_GEM_BYTES = 128 * 1024 * 1024;

const now = () => Date.now();

/** Appends a line to `versions` (creating the file), compacting it once appends outnumber its gems. */
async function appendVersions(store: RepoStore, line: string): Promise<void> {
  const existing = await store.read(VERSIONS_PATH);
  const head = existing ? existing.toString('utf8') : newVersionsFile(now());
  await store.write(VERSIONS_PATH, Buffer.from(compactVersions(head + line, now()), 'utf8'), 'text/plain');
}

/** Brings the index up to date after `spec` was stored at `gems/{full}.gem` with `sha256`. */
async function indexGem(store: RepoStore, spec: GemSpec, full: string, sha256: string): Promise<void> {
  await store.write(quickPath(full), quickSpec(spec, now()), 'application/octet-stream');
  const key = versionAndPlatform(spec.version, spec.platform);
  const old = await store.read(infoPath(spec.name));
  const info = updateInfo(old?.toString('utf8'), key, infoLine(spec, sha256));
  await store.write(infoPath(spec.name), Buffer.from(info, 'utf8'), 'text/plain');
  await appendVersions(store, versionsLine(spec.name, [key], md5Hex(info)));
}

/** Takes a deleted gem out of the index: its quick spec, its info line, a yank line in `versions`. */
async function unindexGem(store: RepoStore, full: string): Promise<void> {
  for (const { name, key } of fullNameCandidates(full)) {
    const old = await store.read(infoPath(name));
    if (!old || !infoKeys(old.toString('utf8')).includes(key)) continue;
    const info = updateInfo(old.toString('utf8'), key, undefined);
    await store.write(infoPath(name), Buffer.from(info, 'utf8'), 'text/plain');
    await appendVersions(store, versionsLine(name, [`-${key}`], md5Hex(info)));
    break;
  }
  await store.delete(quickPath(full));
}

/**
 * The whole index made again from the gems the repository holds: after a folder of gems or
 * an index file was deleted (an administrator's operation; its cost grows with the repository).
 */
async function rebuild(store: RepoStore): Promise<void> {
  const infos = new Map<string, string>();
  const keys = new Map<string, string[]>();
  const fulls = new Set<string>();
  for (const entry of await store.list('gems')) {
    const full = entry.folder ? undefined : fullNameOfGemPath(`gems/${entry.name}`);
    if (!full) continue;
    const data = await store.read(gemPath(full));
    const stat = await store.stat(gemPath(full));
    if (!data || !stat) continue;
    let spec: GemSpec;
    try {
      spec = await readGemSpec(data);
    } catch {
      continue; // not a gem this format can index (it was refused at deploy time)
    }
    fulls.add(full);
    const key = versionAndPlatform(spec.version, spec.platform);
    infos.set(spec.name, updateInfo(infos.get(spec.name), key, infoLine(spec, stat.sha256)));
    keys.set(spec.name, [...(keys.get(spec.name) ?? []), key]);
    if (!(await store.exists(quickPath(full)))) await store.write(quickPath(full), quickSpec(spec, now()), 'application/octet-stream');
  }
  for (const entry of await store.list('info')) {
    if (!entry.folder && !infos.has(entry.name)) await store.delete(infoPath(entry.name));
  }
  for (const entry of await store.list(QUICK_FOLDER)) {
    const full = entry.name.endsWith('.gemspec.rz') ? entry.name.slice(0, -'.gemspec.rz'.length) : undefined;
    if (full !== undefined && !fulls.has(full)) await store.delete(quickPath(full));
  }
  let versions = newVersionsFile(now());
  for (const name of [...infos.keys()].sort()) {
    const info = infos.get(name)!;
    await store.write(infoPath(name), Buffer.from(info, 'utf8'), 'text/plain');
    versions += versionsLine(name, keys.get(name)!, md5Hex(info));
  }
  await store.write(VERSIONS_PATH, Buffer.from(versions, 'utf8'), 'text/plain');
}

export const gemsHandler: FormatHandler = {
  packageTypes: ['gems'],

  classify(path) {
    if (fullNameOfGemPath(path) || path.startsWith('quick/')) return 'artifact';
    return 'metadata';
  },

  inspectLimit(path) {
    return fullNameOfGemPath(path) ? MAX_GEM_BYTES : undefined;
  },

  async beforeDeploy({ path, content, store }) {
    if (isIndexPath(path)) throw new ArcaError('BAD_REQUEST', `'${path}' is part of the gem index, which Arca maintains itself: push gems instead`);
    const full = fullNameOfGemPath(path);
    if (!full) return;
    if (!content) throw new ArcaError('BAD_REQUEST', 'A gem is deployed with its content (not by checksum), so that it can be checked');
    const gem = await readGem(content);
    if (gem.fullName !== full) throw new ArcaError('BAD_REQUEST', `The gem's spec says ${gem.fullName}, which does not match the file name ${full}.gem`);
    if (await store.exists(path)) throw new ArcaError('CONFLICT', `Repushing of gem versions is not allowed. Please use \`gem yank\` to remove bad gem releases (${full}).`);
  },

  async afterDeploy({ path, store }) {
    const full = fullNameOfGemPath(path);
    if (!full) return;
    const [data, stat] = [await store.read(path), await store.stat(path)];
    if (!data || !stat) return;
    await indexGem(store, await readGemSpec(data), full, stat.sha256);
  },

  async afterDelete(_repo, path, store) {
    const full = fullNameOfGemPath(path);
    if (full) return unindexGem(store, full);
    // A folder that held gems, or an index file: the index is made again from what is left.
    if (['', 'gems', 'info', 'quick', QUICK_FOLDER].includes(path) || isIndexPath(path)) await rebuild(store);
  },
};
