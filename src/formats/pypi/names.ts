/**
 * Project names (PEP 508 / PEP 503): what a valid name looks like and its normalised form,
 * the one used in index URLs and in the repository layout `{name}/{version}/{file}`.
 */

const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isValidProjectName(name: string): boolean {
  return name.length <= 200 && VALID_NAME.test(name);
}

/** PEP 503: runs of `-`, `_` and `.` become one `-`, and the name is lower-cased. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** Whether `name` is already in its normalised form (else the index redirects). */
export function isNormalizedProjectName(name: string): boolean {
  return isValidProjectName(name) && normalizeProjectName(name) === name;
}
