/**
 * The contract every package format implements (one handler per `src/formats/<name>/`).
 *
 * A handler is pure format knowledge: it parses paths and metadata and decides what a deploy
 * means for the format. It never imports the database, the content store or HTTP; the
 * services give it a `RepoStore` (a narrow view of one repository) when it needs to read or
 * write files, and turn its `ArcaError`s into each client's wire format.
 */

/** The configuration fields of a repository a handler may read (a `RepoConfig` fits). */
export interface RepoSettings {
  key: string;
  rclass: string;
  packageType: string;
  [field: string]: unknown;
}

/**
 * What a path holds, for caching and merging:
 * - `artifact`: immutable content (a jar, a tarball, a wheel); a remote's cached copy never expires;
 * - `metadata`: content that changes as versions are published (maven-metadata.xml, an npm
 *   packument, a PyPI simple page); a remote re-checks it after `retrievalCachePeriodSecs`,
 *   and a virtual repository merges it across members through `mergeMetadata`;
 * - `checksum`: a checksum file of another path (`x.jar.sha1`); see `checksumTarget`.
 */
export type PathKind = 'artifact' | 'metadata' | 'checksum';

/** Checksum algorithms a checksum file can carry. */
export type ChecksumFileAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

/** A child of a folder, as a handler sees it. */
export interface StoreEntry {
  name: string;
  folder: boolean;
  /** Last modification (epoch ms). */
  modified: number;
  size: number;
  sha1?: string;
}

/**
 * One repository's files as a handler may use them (implemented by the services over the
 * content store). Writes made here are the format's own bookkeeping (metadata files) and
 * skip the format's deploy hooks.
 */
export interface RepoStore {
  readonly repo: RepoSettings;
  /** The whole content of a file, or undefined when there is none (or it is a folder). */
  read(path: string): Promise<Buffer | undefined>;
  exists(path: string): Promise<boolean>;
  /** A stored file's checksums and size, or undefined when there is no file. */
  stat(path: string): Promise<{ sha1: string; md5: string; sha256: string; size: number; modified: number } | undefined>;
  /** Children of a folder ('' = root), sorted by name; [] when absent. */
  list(folder: string): Promise<StoreEntry[]>;
  /** Stores (or replaces) a file the format generates, such as maven-metadata.xml. */
  write(path: string, data: Buffer, mimeType?: string): Promise<void>;
  /** Deletes a file or a folder with everything below it; false when nothing was there. */
  delete(path: string): Promise<boolean>;
  /** Sets the checksums a client declared for a stored file (its "original checksums"). */
  setOriginalChecksums?(path: string, checksums: { sha1?: string; md5?: string; sha256?: string }): Promise<void>;
}

/** A file about to be deployed, before anything is stored. */
export interface DeployCheck {
  repo: RepoSettings;
  path: string;
  /** The whole body, when `inspectLimit(path)` asked for it; undefined for streamed files. */
  content?: Buffer;
  store: RepoStore;
  /** The deploy's parameters: the properties it sets and the matrix parameters it asks for (Debian's `deb.distribution`). */
  params?: Readonly<Record<string, readonly string[]>>;
}

/** A file that has just been stored by a deploy. */
export interface DeployedFile {
  repo: RepoSettings;
  path: string;
  sha1: string;
  size: number;
  user: string;
  store: RepoStore;
  /** As `DeployCheck.params`. */
  params?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A change a replication applied (services/replication/replication-apply.ts): `path` now holds
 * what the source site holds there (stored as given, no `beforeDeploy`), or is gone.
 */
export interface ReplicatedChange {
  repo: RepoSettings;
  path: string;
  deleted: boolean;
  user: string;
  store: RepoStore;
}

/** What a handler asks the deploy service to do instead of storing a file as it is. */
export type DeployDecision =
  /** Store the file normally (the default), with properties the format derives from it (Debian's `deb.name`). */
  | { action: 'store'; properties?: Record<string, string[]> }
  /** Do not store anything and answer success (e.g. a checksum file recorded on its target). */
  | { action: 'absorb'; status?: number };

/** One copy of a metadata file found in a member of a virtual repository. */
export interface MetadataCopy {
  repoKey: string;
  data: Buffer;
  /** Last modification of this copy (epoch ms). */
  modified: number;
}

export interface FormatHandler {
  /** Package types this handler serves (`RepoConfig.packageType`, lower case). */
  readonly packageTypes: readonly string[];

  /** Classifies a repository-relative path (see `PathKind`). */
  classify(path: string): PathKind;

  /**
   * For a checksum file, the path it describes and its algorithm (`a.jar.sha1` → `a.jar`,
   * sha1); undefined for other paths. A handler that returns a target here gets checksum
   * files served for every file, stored or not.
   */
  checksumTarget?(path: string): { target: string; algorithm: ChecksumFileAlgorithm } | undefined;

  /**
   * Bytes to read into memory before a deploy of `path` is validated (small metadata such
   * as a POM); undefined streams the body straight into the store. Larger bodies are refused.
   */
  inspectLimit?(path: string): number | undefined;

  /**
   * Validates a deploy before anything is stored (layout, POM consistency, snapshot and
   * release policies, checksum policy); throws an `ArcaError` to refuse it. May decide that
   * the file is absorbed rather than stored.
   */
  beforeDeploy?(check: DeployCheck): Promise<DeployDecision | void>;

  /** After a file is stored: regenerates metadata, cleans up old snapshots. */
  afterDeploy?(file: DeployedFile): Promise<void>;

  /** After a file or folder is deleted: regenerates the metadata that listed it. */
  afterDelete?(repo: RepoSettings, path: string, store: RepoStore): Promise<void>;

  /**
   * After a replication applied a change: brings up to date what the format derives from its
   * items, so clients see the change at once, but only where it does not already say so (the
   * source site sends its own copy of every metadata item, which is stored as given; metadata
   * that already lists the change is left as it is, so the target ends up holding the same
   * items as the source). Undefined: nothing to do (the format reads its items directly).
   */
  afterReplication?(change: ReplicatedChange): Promise<void>;

  /**
   * True for an item the format keeps only while a client is at work (an OCI upload session):
   * a scheduled replication run never sends it (event capture already leaves it out).
   */
  transientPath?(path: string): boolean;

  /**
   * Bytes of a replicated file to read before it is stored, when its media type is in its
   * content rather than its path (an OCI manifest); undefined for other paths.
   */
  replicatedContentLimit?(path: string): number | undefined;

  /**
   * The media type to store a replicated file with, as the format's own API stores it, from its
   * path, properties and (when `replicatedContentLimit` asked for it) content; undefined: from its name.
   */
  replicatedMediaType?(path: string, content: Buffer | undefined, properties: Readonly<Record<string, readonly string[]>>): string | undefined;

  /**
   * Merges the copies of a metadata file found in the members of a virtual repository
   * (in resolution order). Undefined: the first copy wins.
   */
  mergeMetadata?(path: string, copies: MetadataCopy[]): Buffer;
}

/** A read a format's service answers itself (see `FormatModule.reads`). */
export interface FormatReadRequest<A> {
  repo: RepoSettings;
  path: string;
  /** Addressed as `{remote}-cache`: the cache only, never the upstream. */
  cacheOnly: boolean;
  /** The caller's permissions (the services' `Access`). */
  access: A;
}

/**
 * Content a format makes as it is sent (a Debian Packages file from its buckets): its checksums
 * and size known beforehand, its bytes produced on demand.
 */
export interface StreamedContent {
  kind: 'stream';
  parts: () => AsyncIterable<Buffer>;
  sums: { size: number; md5: string; sha1: string; sha256: string };
  modified: number;
  type: string;
}

/** What a format's read answers: a stored item, content it made (whole or streamed), nothing (404), or `pass` (read as usual). */
export type FormatReadAnswer<I> = { kind: 'item'; item: I } | { kind: 'bytes'; data: Buffer; modified: number; type?: string } | StreamedContent | { kind: 'missing' } | { kind: 'pass' };

/**
 * Paths of a repository whose reads a format's service answers before the stored files are
 * looked at, such as signed or merged metadata that a virtual or remote repository makes
 * (RPM's `repodata/`). `handles` is cheap and synchronous; `read` runs for those paths only.
 */
export interface FormatReads<A, I> {
  handles(repo: RepoSettings, path: string): boolean;
  read(request: FormatReadRequest<A>): Promise<FormatReadAnswer<I>>;
}
