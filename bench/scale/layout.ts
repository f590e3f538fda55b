/**
 * Where the `--scale` bench puts things: repository keys and the paths of the n-th artifact,
 * shared by the loader (which writes them) and the measurements (which ask for them).
 *
 * File i of the generic repository is `g{a}/m{b}/v{c}/file-{i}.bin` with leaf folder
 * f = ⌊i / 50⌋, c = f mod 20, b = ⌊f / 20⌋ mod 20, a = ⌊f / 400⌋: 50 files per leaf folder,
 * 20 leaf folders per module, 20 modules per group (20,000 files), and the root holds one
 * group per 20,000 files. Names are unique, so a name search `file-{i}.*` or a property
 * search `build.number={i}` finds one file at any size.
 */
import { createHash } from 'node:crypto';

export const GENERIC = 'scale-generic';
export const NPM = 'scale-npm';
export const PYPI = 'scale-pypi';
export const DOCKER = 'scale-docker';

export const FILES_PER_FOLDER = 50;
const FOLDERS_PER_MODULE = 20;
const MODULES_PER_GROUP = 20;
/** Every n-th file has a binary of its own; the others share SHARED_BINARIES of 1 KiB. */
export const OWN_BINARY_EVERY = 2;
export const SHARED_BINARIES = 64;
/** Every n-th file has two properties (`build.number={i}`, `build.name=g{a}`). */
export const PROPERTIES_EVERY = 10;
export const BUILD_NUMBER = 'build.number';
export const BUILD_NAME = 'build.name';

export const NPM_PACKAGE = 'scale-pkg';
export const NPM_VERSIONS = 1000;
export const PYPI_PROJECT = 'scale-project';
/** Two files (a wheel and an sdist) per version. */
export const PYPI_VERSIONS = 500;

/** Files in one folder of the delete measurement (10 subfolders of 50). */
export const DELETE_FOLDER_ITEMS = 500;

export function leafFolder(i: number): string {
  const f = Math.floor(i / FILES_PER_FOLDER);
  return `g${Math.floor(f / (FOLDERS_PER_MODULE * MODULES_PER_GROUP))}/m${Math.floor(f / FOLDERS_PER_MODULE) % MODULES_PER_GROUP}/v${f % FOLDERS_PER_MODULE}`;
}

export const fileName = (i: number) => `file-${i}.bin`;
export const filePath = (i: number) => `${leafFolder(i)}/${fileName(i)}`;

/** The folders of file i, outermost first, each with the file index period at which a new one starts. */
export function folderOf(i: number): { path: string; every: number }[] {
  const [g, m, v] = leafFolder(i).split('/');
  return [
    { path: g, every: FILES_PER_FOLDER * FOLDERS_PER_MODULE * MODULES_PER_GROUP },
    { path: `${g}/${m}`, every: FILES_PER_FOLDER * FOLDERS_PER_MODULE },
    { path: `${g}/${m}/${v}`, every: FILES_PER_FOLDER },
  ];
}

export const hasOwnBinary = (i: number) => i % OWN_BINARY_EVERY === 0;
export const hasProperties = (i: number) => i % PROPERTIES_EVERY === 0;

/** A file's own content: small and unique. */
export const uniqueContent = (i: number) => Buffer.from(`scale bench artifact ${i}\n`.repeat(4));

/** The k-th shared binary, 1 KiB. */
export function sharedContent(k: number): Buffer {
  const b = Buffer.alloc(1024, 0x61 + (k % 26));
  b.write(`shared binary ${k}\n`);
  return b;
}

export const deleteFolder = (tag: string, k: number) => `del/s${tag}-${k}`;

/**
 * The format indexes (issue 14, items 3 and 7): one small npm package per artifact of the size
 * (`pkg-{i}`, one version, its document only), one OCI image per ten (`img-{i}`, a manifest by
 * digest and under tag `v1`), and one image `big` with a manifest by digest per ten artifacts
 * and BIG_IMAGE_TAGS tags, whose tag list is measured.
 */
export const searchPackage = (i: number) => `pkg-${i}`;
export const IMAGE_EVERY = 10;
export const image = (j: number) => `img-${j}`;
export const BIG_IMAGE = 'big';
export const BIG_IMAGE_TAGS = 20;
export const bigTag = (t: number) => `t${String(t).padStart(2, '0')}`;
/** The digest folder of the j-th manifest (of an image or of the big image). */
export const digestFolderName = (kind: string, j: number) => `sha256:${createHash('sha256').update(`${kind} ${j}`).digest('hex')}`;
