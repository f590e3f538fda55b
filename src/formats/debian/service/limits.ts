/** Largest upstream index file read (Release, Packages) and unpacked Packages. */
export const MAX_UPSTREAM_INDEX_BYTES = 512 * 1024 * 1024;
