import { ArcaError } from '../../core/errors.js';
import { parentOf } from '../../core/paths.js';
import type { ChecksumFileAlgorithm, DeployCheck, DeployDecision, FormatHandler, RepoSettings, RepoStore } from '../format-handler.js';
import { foldersOf, METADATA_FILE, metadataLocation, parseArtifactPath, type MavenArtifactPath } from './maven-layout.js';
import { mergeMetadata, parseMetadata, renderMetadata } from './maven-metadata.js';
import { pruneSnapshots, serialized, updateArtifactMetadata, updateSnapshotMetadata } from './metadata-update.js';
import { parsePom } from './pom.js';

const CHECKSUM_EXTENSIONS: Record<string, ChecksumFileAlgorithm> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha512: 'sha512' };
const HEX_LENGTH: Record<ChecksumFileAlgorithm, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

function checksumTarget(path: string): { target: string; algorithm: ChecksumFileAlgorithm } | undefined {
  const dot = path.lastIndexOf('.');
  const algorithm = dot > 0 ? CHECKSUM_EXTENSIONS[path.slice(dot + 1)] : undefined;
  if (!algorithm || path.slice(0, dot).endsWith('/')) return undefined;
  return { target: path.slice(0, dot), algorithm };
}

const isMetadataPath = (path: string) => path === METADATA_FILE || path.endsWith(`/${METADATA_FILE}`);

/** The snapshot/release policy of a repository for a version. */
function checkPolicy(repo: RepoSettings, path: string, snapshot: boolean): void {
  if (snapshot && repo.handleSnapshots === false) {
    throw new ArcaError('CONFLICT', `Repository '${repo.key}' does not accept SNAPSHOT versions (handleSnapshots is off): '${path}'`);
  }
  if (!snapshot && repo.handleReleases === false) {
    throw new ArcaError('CONFLICT', `Repository '${repo.key}' does not accept release versions (handleReleases is off): '${path}'`);
  }
}

function checkPom(repo: RepoSettings, path: string, art: MavenArtifactPath, content: Buffer): void {
  const pom = parsePom(content);
  if (repo.suppressPomConsistencyChecks === true) return;
  const expected = { groupId: art.groupId, artifactId: art.artifactId, version: art.baseVersion };
  for (const field of ['groupId', 'artifactId', 'version'] as const) {
    if (pom[field] !== expected[field]) {
      throw new ArcaError(
        'CONFLICT',
        `The POM's ${field} '${pom[field] ?? ''}' does not match its path '${path}' (expected '${expected[field]}'): ` +
          `the target deployment path does not match the POM's coordinates`,
      );
    }
  }
}

/**
 * A deployed checksum file. It is recorded on the file it describes rather than stored:
 * with `client-checksums` (the default) a value that differs from the stored file's is
 * refused (409); with `server-generated-checksums` the client's value is ignored. Either way
 * the served checksum files are computed by the server. Checksums of maven-metadata.xml are
 * absorbed (the server generates its own metadata).
 */
async function deployChecksum(check: DeployCheck, target: string, algorithm: ChecksumFileAlgorithm): Promise<DeployDecision> {
  const value = (check.content ?? Buffer.alloc(0)).toString('utf8').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (value.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(value)) {
    throw new ArcaError('BAD_REQUEST', `Malformed ${algorithm} checksum file '${check.path}': expected ${HEX_LENGTH[algorithm]} hex digits`);
  }
  if (isMetadataPath(target)) return { action: 'absorb' };
  const stat = await check.store.stat(target);
  if (!stat) return { action: 'store' };
  if (algorithm === 'sha512') return { action: 'absorb' };
  const actual = stat[algorithm];
  if (value === actual) {
    await check.store.setOriginalChecksums?.(target, { [algorithm]: value });
    return { action: 'absorb' };
  }
  if (check.repo.checksumPolicyType === 'server-generated-checksums') return { action: 'absorb' };
  throw new ArcaError(
    'CHECKSUM_MISMATCH',
    `Checksum policy 'client-checksums' rejected '${check.path}': the client's ${algorithm} is ${value}, the server computed ${actual} for '${target}'`,
  );
}

/** After a change in a version folder: prune old snapshots, regenerate both metadata levels. */
function refresh(store: RepoStore, art: MavenArtifactPath, pruneTo: number): Promise<void> {
  const { artifactFolder, versionFolder } = foldersOf(art);
  return serialized(`${store.repo.key}\u0000${artifactFolder}`, async () => {
    if (art.snapshot) {
      if (art.timestamp && pruneTo > 0) await pruneSnapshots(store, versionFolder, pruneTo);
      await updateSnapshotMetadata(store, versionFolder, Date.now());
    }
    await updateArtifactMetadata(store, artifactFolder, Date.now());
  });
}

/** Maven repositories: the standard layout, generated metadata, checksum files, policies. */
export const mavenHandler: FormatHandler = {
  packageTypes: ['maven', 'gradle'],

  classify(path) {
    if (checksumTarget(path)) return 'checksum';
    if (isMetadataPath(path)) return 'metadata';
    // A non-unique SNAPSHOT file changes in place: re-checked like metadata.
    const art = parseArtifactPath(path);
    if (art?.snapshot && !art.timestamp) return 'metadata';
    return 'artifact';
  },

  checksumTarget,

  inspectLimit(path) {
    if (checksumTarget(path)) return 4096;
    if (isMetadataPath(path)) return 4 << 20;
    if (path.endsWith('.pom')) return 16 << 20;
    return undefined;
  },

  async beforeDeploy(check) {
    const { repo, path, content } = check;
    const sum = checksumTarget(path);
    if (sum) return deployChecksum(check, sum.target, sum.algorithm);
    const meta = metadataLocation(path);
    if (meta) {
      if (content) parseMetadata(content);
      if (meta.level === 'version') checkPolicy(repo, path, true);
      // Artifact and version metadata are generated from what the repository holds.
      return meta.level === 'other' ? { action: 'store' } : { action: 'absorb' };
    }
    const art = parseArtifactPath(path);
    if (!art) return { action: 'store' };
    checkPolicy(repo, path, art.snapshot);
    if (art.extension === 'pom' && content) checkPom(repo, path, art, content);
    return { action: 'store' };
  },

  async afterDeploy(file) {
    const art = parseArtifactPath(file.path);
    if (!art) return;
    const max = typeof file.repo.maxUniqueSnapshots === 'number' ? file.repo.maxUniqueSnapshots : 0;
    await refresh(file.store, art, max);
  },

  // The source's own maven-metadata.xml arrives as an item; regenerated here only when it does not list what arrived or went.
  async afterReplication({ path, store }) {
    if (isMetadataPath(path)) return;
    const art = parseArtifactPath(path);
    const folder = art ? foldersOf(art).artifactFolder : parentOf(path);
    if (folder === '' || (!art && !(await store.exists(`${folder}/${METADATA_FILE}`)))) return;
    await serialized(`${store.repo.key}\u0000${folder}`, async () => {
      if (art?.snapshot) await updateSnapshotMetadata(store, foldersOf(art).versionFolder, Date.now(), true);
      await updateArtifactMetadata(store, folder, Date.now(), true);
    });
  },

  async afterDelete(_repo, path, store) {
    const art = parseArtifactPath(path);
    if (art) return refresh(store, art, 0);
    // A version folder (or a folder above it): regenerate the artifact metadata that listed it.
    const parent = parentOf(path);
    if (parent !== '' && (await store.exists(`${parent}/${METADATA_FILE}`))) {
      await serialized(`${store.repo.key}\u0000${parent}`, () => updateArtifactMetadata(store, parent, Date.now()));
    }
  },

  mergeMetadata(path, copies) {
    if (!isMetadataPath(path)) return copies[0].data;
    const parsed = [];
    for (const c of copies) {
      try {
        parsed.push(parseMetadata(c.data));
      } catch {
        // A member's unreadable copy is left out of the merge.
      }
    }
    if (parsed.length === 0) return copies[0].data;
    return Buffer.from(renderMetadata(mergeMetadata(parsed)));
  },
};
